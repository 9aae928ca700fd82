"""CSV exports, streamed: rows are read in chunks and written as they go, never all held.

`Echo` is the pseudo-buffer of Django's "streaming large CSV files" recipe: the csv writer
returns each line instead of keeping it.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from operations.models import Item, Kind, Status

CHUNK_SIZE = 2000


class Echo:
    def write(self, value):
        return value


def csv_response(*, filename: str, header: list[str], rows: Iterable) -> StreamingHttpResponse:
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        # The BOM lets spreadsheet software read the file as UTF-8.
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def operation_items_header() -> list[str]:
    return [
        _("Date"),
        _("Reference"),
        _("Partner"),
        _("Kind"),
        _("Status"),
        _("Book"),
        _("ISBN"),
        _("Quantity"),
        _("Unit price"),
        _("Amount"),
    ]


def operation_items_rows(operations: QuerySet) -> Iterator[list]:
    """One row per item of `operations`, signed quantity and unsigned amount, in one query
    read `CHUNK_SIZE` rows at a time."""
    kinds, statuses = dict(Kind.choices), dict(Status.choices)
    items = (
        Item.objects.filter(operation__in=operations.order_by().values("pk"))
        .order_by("-operation__created_at", "-operation_id", "book__title", "pk")
        .values_list(
            "operation__created_at",
            "operation__reference",
            "operation__partner__store_name",
            "operation__kind",
            "operation__status",
            "book__title",
            "book__isbn",
            "quantity",
            "unit_price",
        )
    )
    for created_at, ref, store, kind, status, title, isbn, quantity, unit_price in items.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield [
            timezone.localtime(created_at).strftime("%Y-%m-%d %H:%M"),
            ref,
            store,
            kinds.get(kind, kind),
            statuses.get(status, status),
            title,
            isbn,
            quantity,
            unit_price,
            abs(quantity) * unit_price,
        ]


def operation_items_csv(operations: QuerySet) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(
        filename=f"operations-{stamp}.csv",
        header=operation_items_header(),
        rows=operation_items_rows(operations),
    )


def stock_csv(*, header: list[str], rows: Iterable, name: str) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"stock-{name}-{stamp}.csv", header=header, rows=rows)
