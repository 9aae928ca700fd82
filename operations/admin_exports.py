"""The export files in the back office: listed, and downloaded by admins only.

A file is never served by URL from storage: the download view checks that the user is an
admin, then streams the file from the private "exports" storage (FileResponse).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from accounts.admin import ReadOnlyAdminMixin
from operations.export_models import ExportFile, export_storage


def download_url(export: ExportFile) -> str:
    return reverse("admin:operations_exportfile_download", args=[export.pk])


@admin.register(ExportFile)
class ExportFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: a task writes each row, and EXPORT_RETENTION_DAYS deletes them."""

    list_display = ["name", "requested_by", "requested_at", "state", "rows", "download"]
    list_display_links = None
    list_filter = ["state"]
    list_select_related = ["requested_by"]
    actions = None

    @admin.display(description=gettext_lazy("file"))
    def download(self, export):
        if not export.is_ready:
            return "—"
        return format_html('<a href="{}">{}</a>', download_url(export), gettext_lazy("Download"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/download/",
                wrap(self.download_view),
                name="operations_exportfile_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        # admin_view has sent anonymous and non-staff users to the login page.
        if not (request.user.is_admin and self.has_view_permission(request)):
            raise PermissionDenied
        export = ExportFile.objects.filter(pk=pk).first()
        if export is None or not export.is_ready:
            raise Http404
        storage = export_storage()
        if not storage.exists(export.path):
            raise Http404
        return FileResponse(
            storage.open(export.path, "rb"), as_attachment=True, filename=export.name
        )
