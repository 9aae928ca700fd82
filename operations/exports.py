"""CSV exports, streamed: rows are read in chunks and written as they go, never all held.

Every file goes through toplivres.csv, the one writer that defuses formulas and follows the
reader's spreadsheet conventions.
"""

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from operations import analytics
from operations.models import Item, Kind, Status
from toplivres.csv import table_response

CHUNK_SIZE = 2000


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
        _("Copies to return"),
        _("Copies damaged"),
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
            "requested",
            "damaged",
        )
    )
    for (
        created_at,
        ref,
        store,
        kind,
        status,
        title,
        isbn,
        quantity,
        unit_price,
        requested,
        damaged,
    ) in items.iterator(chunk_size=CHUNK_SIZE):
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
            "" if requested is None else requested,
            "" if damaged is None else damaged,
        ]


def operation_items_csv(operations: QuerySet, *, fmt: str = "csv") -> HttpResponseBase:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return table_response(
        fmt=fmt,
        stem=f"operations-{stamp}",
        header=operation_items_header(),
        rows=operation_items_rows(operations),
    )


def stock_csv(*, header: list[str], rows: Iterable, name: str, fmt: str = "csv"):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return table_response(fmt=fmt, stem=f"stock-{name}-{stamp}", header=header, rows=rows)


SALES_TABLES = ("months", "partners", "books", "slow")


def sales_analytics_csv(*, table: str, filters, fmt: str = "csv") -> HttpResponseBase:
    """One table of the sales analytics page (`SALES_TABLES`), filtered as on screen.

    Money as plain decimals and dates as YYYY-MM-DD, for spreadsheets; no totals row.
    """

    def day(moment):
        return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""

    if table == "months":
        header = [_("Month"), _("Copies sold"), _("Revenue at retail"), _("Amount due")]
        rows = (
            [row.key.strftime("%Y-%m"), row.copies_sold, row.revenue, row.amount_due]
            for row in analytics.sales_by_month(filters)
        )
    elif table == "partners":
        header = [
            _("Partner"),
            _("City"),
            _("Copies delivered"),
            _("Copies sold"),
            _("Sell-through (%)"),
            _("Revenue at retail"),
            _("Amount due"),
            _("Copies returned"),
            _("Copies damaged"),
        ]
        rows = (
            [
                row.label,
                row.detail,
                row.copies_delivered,
                row.copies_sold,
                "" if row.sell_through_percent is None else row.sell_through_percent,
                row.revenue,
                row.amount_due,
                row.copies_returned,
                row.copies_damaged,
            ]
            for row in analytics.sales_by_partner(filters)
        )
    elif table == "books":
        header = [_("Book"), _("ISBN"), _("Copies sold"), _("Revenue at retail"), _("Partners")]
        rows = (
            [row.label, row.detail, row.copies_sold, row.revenue, row.partners]
            for row in analytics.best_sellers(filters, limit=None)
        )
    elif table == "slow":
        header = [
            _("Partner"),
            _("Book"),
            _("ISBN"),
            _("Copies held"),
            _("Retail value"),
            _("Last delivery"),
            _("Last sale"),
        ]
        rows = (
            [
                row.partner,
                row.title,
                row.isbn,
                row.copies,
                row.value,
                day(row.last_delivery_at),
                day(row.last_sale_at),
            ]
            for row in analytics.slow_movers(filters, limit=None)
        )
    else:
        raise ValueError(f"Unknown sales table: {table}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return table_response(fmt=fmt, stem=f"sales-{table}-{stamp}", header=header, rows=rows)
