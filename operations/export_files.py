"""Large exports as files: asked for from the admin, written by a task, downloaded later.

`export_needs_task` says whether an export is too large to stream at once (more than
EXPORT_TASK_THRESHOLD rows, counted no further than that). `export_request` records the
ExportFile and queues the task `export_operations` after commit, which calls `export_write`:
it which streams the rows into a temporary file, in chunks, then into the
private "exports" storage, and tells the admin by e-mail with the download link.
"""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from operations import exports
from operations.export_models import ExportFile, export_storage
from operations.models import Item, Operation
from toplivres.csv import csv_lines, dialect_for
from toplivres.mail import send_templated, site_link
from toplivres.xlsx import xlsx_write

logger = logging.getLogger(__name__)


def export_needs_task(operations: QuerySet) -> bool:
    """More item rows than EXPORT_TASK_THRESHOLD? Counts at most threshold + 1 rows."""
    threshold = settings.EXPORT_TASK_THRESHOLD
    items = Item.objects.filter(operation__in=operations.order_by().values("pk")).order_by()
    return items[: threshold + 1].count() > threshold


def export_request(*, by, query: str, fmt: str) -> ExportFile:
    """Record an export of the operations list (filtered by `query`), queue its task after
    commit, and delete the export files past their retention."""
    exports_cleanup()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    with transaction.atomic():
        export = ExportFile.objects.create(
            name=f"operations-{stamp}.{fmt}", format=fmt, query=query, requested_by=by
        )
        transaction.on_commit(lambda: export_operations.enqueue(export_id=export.pk))
    return export


def export_write(*, export: ExportFile, operations: QuerySet) -> ExportFile:
    """Write the items of `operations` into the export's file, streamed in chunks, in the
    language (headers, CSV dialect) of the admin who asked; then notify that admin."""
    user = export.requested_by
    with translation.override(user.language), tempfile.TemporaryFile() as handle:
        header = exports.operation_items_header()
        rows = exports.operation_items_rows(operations)
        if export.format == ExportFile.Format.XLSX:
            count = xlsx_write(handle, header=header, rows=rows)
        else:
            count = _csv_write(handle, header=header, rows=rows, dialect=dialect_for())
        handle.seek(0)
        path = export_storage().save(f"operations/{export.name}", File(handle))
    export.path, export.rows = path, count
    export.state, export.finished_at = ExportFile.State.READY, timezone.now()
    export.save(update_fields=["path", "rows", "state", "finished_at"])
    link = site_link(reverse("admin:operations_exportfile_download", args=[export.pk]))
    try:
        send_templated(user=user, template="export_ready", context={"export": export, "link": link})
    except Exception:  # the file is there and listed in the admin: the e-mail is a courtesy
        logger.exception("E-mail about export %s to %s failed", export.pk, user.email)
    return export


def export_failed(*, export: ExportFile) -> None:
    ExportFile.objects.filter(pk=export.pk).update(
        state=ExportFile.State.FAILED, finished_at=timezone.now()
    )


def _csv_write(handle, *, header, rows, dialect) -> int:
    lines = 0
    for line in csv_lines(header=header, rows=rows, dialect=dialect):
        handle.write(line.encode("utf-8"))
        lines += 1
    return lines - 1  # the header is not a row


def exports_cleanup(*, now=None) -> int:
    """Delete the export files (and their rows) older than EXPORT_RETENTION_DAYS."""
    now = now or timezone.now()
    old = ExportFile.objects.filter(
        requested_at__lt=now - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    )
    count = 0
    for export in old.iterator():
        if export.path:
            export_storage().delete(export.path)
        export.delete()
        count += 1
    return count


@task()
def export_operations(*, export_id: int) -> str:
    """Write a large export of the operations list, filtered as the admin had it on screen.

    A failure is logged, the export marked failed, and raised again (the database backend
    records the task as FAILED)."""
    export = ExportFile.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None:
        return "gone"  # cleaned up meanwhile
    try:
        export_write(export=export, operations=_operations_list(export))
    except Exception:
        logger.exception("Export %s failed", export_id)
        export_failed(export=export)
        raise
    return "ready"


def _operations_list(export: ExportFile) -> QuerySet:
    """The operations list's rows for the export's query string, through the admin's own
    filters and search (the same ChangeList as on screen), as the admin who asked sees it."""
    request = HttpRequest()
    request.method = "GET"
    request.path = reverse("admin:operations_operation_changelist")
    request.GET = QueryDict(export.query)
    request.user = export.requested_by
    model_admin = admin.site.get_model_admin(Operation)
    return model_admin.get_changelist_instance(request).queryset
