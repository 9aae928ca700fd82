"""The operations' CSV and XLSX export in the back office: the changelist's rows as filtered on
screen, streamed, or written by a task when too large (mixed into OperationAdmin, before
ModelAdmin)."""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from operations import exports
from operations.admin_exports import download_url
from operations.export_files import export_needs_task, export_request


class ExportAdminMixin:
    """The export of OperationAdmin's changelist (mixed in before ModelAdmin)."""

    def export_view(self, request):
        """The changelist's rows, as filtered on screen, one CSV row per item."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        # "format" is the export's own parameter, not a filter of the changelist.
        request.GET = request.GET.copy()
        request.GET.pop("format", None)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect("admin:operations_operation_changelist")
        if not export_needs_task(changelist.queryset):
            return exports.operation_items_csv(changelist.queryset, fmt=fmt)
        # Too large to stream in a request: a task writes the file, the admin downloads it.
        export = export_request(by=request.user, query=request.GET.urlencode(), fmt=fmt)
        export.refresh_from_db()  # the immediate backend has already written it
        if export.is_ready:
            self.message_user(
                request,
                format_html(
                    _('The export {name} is ready: <a href="{url}">download it</a>.'),
                    name=export.name,
                    url=download_url(export),
                ),
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                format_html(
                    _(
                        "The export is large: {name} is being written. It will be listed "
                        'under <a href="{url}">export files</a> and sent to you by e-mail.'
                    ),
                    name=export.name,
                    url=reverse("admin:operations_exportfile_changelist"),
                ),
            )
        changelist_url = reverse("admin:operations_operation_changelist")
        return HttpResponseRedirect(f"{changelist_url}?{request.GET.urlencode()}")
