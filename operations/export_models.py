"""A large export written by a background task: who asked, when, how many rows, its file.

The file lives in the private "exports" storage (settings.STORAGES, never served by URL):
admins download it through the admin (operations.admin_exports), and files older than
EXPORT_RETENTION_DAYS are deleted when a new export is asked for.
"""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def export_storage():
    return storages["exports"]


class ExportFile(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("being written")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (.xlsx)"

    name = models.CharField(_("file name"), max_length=100)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The operations list's query string (filters and search) the export was asked from.
    query = models.TextField(_("filters"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("asked by"),
    )
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    path = models.CharField(_("stored file"), max_length=200, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export file")
        verbose_name_plural = _("export files")
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY and bool(self.path)
