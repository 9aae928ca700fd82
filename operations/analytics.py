"""Reads for the back office: stock across partners, and what waits for an admin.

Stock held by a partner for a book is the sum of its counting items (see selectors). Here the
positive (partner, book) pairs are read in one grouped query and folded per book or per
partner, so that a partner counts as holding a book only while it has copies left.
"""

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from operations.models import Item, Kind, Operation, Status
from operations.selectors import cents


@dataclass
class StockRow:
    """Copies held and their retail value (today's price), for one book or one partner."""

    pk: int
    label: str
    detail: str = ""
    copies: int = 0
    value: Decimal = Decimal("0.00")
    holders: set = field(default_factory=set)  # partners holding the book, or titles held

    @property
    def spread(self) -> int:
        return len(self.holders)


@dataclass(frozen=True)
class StockFilters:
    series_id: int | None = None
    partner_id: int | None = None
    book_id: int | None = None
    query: str = ""


def _held_pairs(filters: StockFilters) -> QuerySet:
    items = Item.objects.filter(operation__counts_in_stock=True)
    if filters.series_id:
        items = items.filter(book__series_id=filters.series_id)
    if filters.partner_id:
        items = items.filter(operation__partner_id=filters.partner_id)
    if filters.book_id:
        items = items.filter(book_id=filters.book_id)
    query = (filters.query or "").strip()
    if query:
        condition = (
            Q(book__title__icontains=query)
            | Q(book__authors__icontains=query)
            | Q(book__isbn__contains=query.replace("-", "").replace(" ", ""))
            | Q(operation__partner__store_name__icontains=query)
        )
        with contextlib.suppress(ValidationError):
            condition |= Q(book__isbn=normalize_isbn(query))
        items = items.filter(condition)
    return (
        items.values(
            "book_id",
            "book__title",
            "book__isbn",
            "book__price",
            "operation__partner_id",
            "operation__partner__store_name",
            "operation__partner__city",
        )
        .annotate(held=Sum("quantity"))
        .filter(held__gt=0)
        .order_by()
    )


def stock_per_book(filters: StockFilters) -> list[StockRow]:
    """One row per book held by at least one partner (within the filters), by title."""
    rows: dict[int, StockRow] = {}
    for pair in _held_pairs(filters):
        row = rows.get(pair["book_id"])
        if row is None:
            row = rows[pair["book_id"]] = StockRow(
                pk=pair["book_id"], label=pair["book__title"], detail=pair["book__isbn"]
            )
        row.copies += pair["held"]
        row.value += pair["held"] * pair["book__price"]
        row.holders.add(pair["operation__partner_id"])
    return _finish(rows)


def stock_per_partner(filters: StockFilters) -> list[StockRow]:
    """One row per partner holding copies (within the filters), by store name."""
    rows: dict[int, StockRow] = {}
    for pair in _held_pairs(filters):
        row = rows.get(pair["operation__partner_id"])
        if row is None:
            row = rows[pair["operation__partner_id"]] = StockRow(
                pk=pair["operation__partner_id"],
                label=pair["operation__partner__store_name"],
                detail=pair["operation__partner__city"],
            )
        row.copies += pair["held"]
        row.value += pair["held"] * pair["book__price"]
        row.holders.add(pair["book_id"])
    return _finish(rows)


def _finish(rows: dict[int, StockRow]) -> list[StockRow]:
    result = sorted(rows.values(), key=lambda r: (r.label.casefold(), r.pk))
    for row in result:
        row.value = cents(row.value)
    return result


def stock_summary(rows: list[StockRow]) -> dict:
    return {"copies": sum(r.copies for r in rows), "value": cents(sum(r.value for r in rows))}


# -- what waits for an admin --------------------------------------------------------------------


def partners_awaiting_report() -> QuerySet:
    """Partners whose last delivery has no recorded sales report after it (rule 2)."""
    return (
        Partner.objects.annotate(
            last_delivery_at=Max(
                "operations__delivered_at",
                filter=Q(operations__kind=Kind.ORDER, operations__status=Status.DELIVERED),
            ),
            last_report_at=Max(
                "operations__created_at",
                filter=Q(operations__kind=Kind.REPORT, operations__status=Status.RECORDED),
            ),
        )
        .filter(last_delivery_at__isnull=False)
        .filter(Q(last_report_at__isnull=True) | Q(last_report_at__lte=F("last_delivery_at")))
        .order_by("last_delivery_at")
    )


@dataclass(frozen=True)
class OrderDesk:
    pending: int
    approved: int
    awaiting_report: int


def order_desk() -> OrderDesk:
    """How many orders wait for approval, for delivery, and partners owing a report."""
    counts = Operation.objects.open_orders().values("status").annotate(n=Count("pk")).order_by()
    by_status = {row["status"]: row["n"] for row in counts}
    return OrderDesk(
        pending=by_status.get(Status.PENDING, 0),
        approved=by_status.get(Status.APPROVED, 0),
        awaiting_report=partners_awaiting_report().count(),
    )
