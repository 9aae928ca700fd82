"""Reads for the back office: stock across partners, and what waits for an admin.

Stock held by a partner for a book is the sum of its counting items (see selectors). Here the
positive (partner, book) pairs are read in one grouped query and folded per book or per
partner, so that a partner counts as holding a book only while it has copies left.
"""

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from operations.billing.selectors import invoiced_due
from operations.lifecycle import OPEN_ORDER_STATUSES, OPEN_RETURN_STATUSES
from operations.models import Item, Kind, Operation, Status, StockBalance
from operations.selectors import cents


@dataclass
class StockRow:
    """Copies held and their retail value (today's price), for one book or one partner."""

    pk: int
    label: str
    detail: str = ""
    copies: int = 0
    value: Decimal = Decimal("0.00")
    spread: int = 0  # partners holding the book, or titles the partner holds


@dataclass(frozen=True)
class StockFilters:
    series_id: int | None = None
    partner_id: int | None = None
    book_id: int | None = None
    query: str = ""


def _held(filters: StockFilters) -> QuerySet:
    """The stored balances with copies held, within the filters."""
    held = StockBalance.objects.held()
    if filters.series_id:
        held = held.filter(book__series_id=filters.series_id)
    if filters.partner_id:
        held = held.filter(partner_id=filters.partner_id)
    if filters.book_id:
        held = held.filter(book_id=filters.book_id)
    query = (filters.query or "").strip()
    if query:
        condition = (
            Q(book__title__icontains=query)
            | Q(book__authors__icontains=query)
            | Q(book__isbn__contains=query.replace("-", "").replace(" ", ""))
            | Q(partner__store_name__icontains=query)
        )
        with contextlib.suppress(ValidationError):
            condition |= Q(book__isbn=normalize_isbn(query))
        held = held.filter(condition)
    return held


_HELD_VALUE = Sum(
    F("quantity") * F("book__price"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


class StockTable:
    """Stock grouped per book or per partner by the database, in label order: sliced by a
    paginator one page at a time, or iterated whole for a CSV."""

    def __init__(self, grouped: QuerySet, *, key: str, label: str, detail: str, spread: str):
        self.grouped = grouped
        self.names = (key, label, detail, spread)

    def _row(self, values: dict) -> StockRow:
        key, label, detail, spread = self.names
        return StockRow(
            pk=values[key],
            label=values[label],
            detail=values[detail],
            copies=values["copies"],
            value=cents(values["value"]),
            spread=values["spread"],
        )

    def count(self) -> int:
        return self.grouped.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(values) for values in self.grouped[index]]
        return self._row(self.grouped[index])

    def __iter__(self):
        return (self._row(values) for values in self.grouped.iterator(chunk_size=2000))


def stock_per_book(filters: StockFilters) -> StockTable:
    """One row per book held by at least one partner (within the filters), by title."""
    grouped = (
        _held(filters)
        .values("book_id", "book__title", "book__isbn")
        .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("partner_id"))
        .order_by("book__title", "book_id")
    )
    return StockTable(
        grouped, key="book_id", label="book__title", detail="book__isbn", spread="spread"
    )


def stock_per_partner(filters: StockFilters) -> StockTable:
    """One row per partner holding copies (within the filters), by store name."""
    grouped = (
        _held(filters)
        .values("partner_id", "partner__store_name", "partner__city")
        .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("book_id"))
        .order_by("partner__store_name", "partner_id")
    )
    return StockTable(
        grouped,
        key="partner_id",
        label="partner__store_name",
        detail="partner__city",
        spread="spread",
    )


def stock_summary(filters: StockFilters) -> dict:
    """Copies and retail value held within the filters (one aggregate)."""
    sums = _held(filters).aggregate(copies=Sum("quantity"), value=_HELD_VALUE)
    return {"copies": sums["copies"] or 0, "value": cents(sums["value"] or 0)}


# -- what waits for an admin --------------------------------------------------------------------


def partners_awaiting_report() -> QuerySet:
    """Partners with a delivery that no recorded sales report follows (rule 2), longest
    waiting first.

    A partner awaits a report exactly when its last delivery (in event order) comes after
    its last recorded report: a report that follows the last delivery follows every earlier
    one too. Each "last" is one probe of the (partner, kind, status, counted_seq) index, so
    the cost grows with the partners, never with their history.
    """
    mine = Operation.objects.filter(partner=OuterRef("pk")).order_by("-counted_seq")
    last_delivery = mine.filter(kind=Kind.ORDER, status=Status.DELIVERED)
    last_report = mine.filter(kind=Kind.REPORT, status=Status.RECORDED)
    return (
        Partner.objects.annotate(
            last_delivery_seq=Subquery(last_delivery.values("counted_seq")[:1]),
            last_report_seq=Coalesce(Subquery(last_report.values("counted_seq")[:1]), 0),
        )
        .filter(last_delivery_seq__gt=F("last_report_seq"))
        .annotate(last_delivery_at=Subquery(last_delivery.values("delivered_at")[:1]))
        .order_by("last_delivery_at", "pk")
    )


@dataclass(frozen=True)
class OrderDesk:
    pending: int
    approved: int
    awaiting_report: int
    returns_requested: int = 0
    returns_to_receive: int = 0
    recalls_waiting: int = 0


def order_desk() -> OrderDesk:
    """How many orders wait for approval, for delivery, partners owing a report, and
    returns to accept, to receive or waiting for the partner to ship."""
    # Two IN lists rather than an OR of pairs: the (kind, status, created_at) index is then
    # sought for each pair, not scanned whole; only the pairs below are read.
    open_ops = Operation.objects.filter(
        kind__in=[Kind.ORDER, Kind.RETURN],
        status__in=[*OPEN_ORDER_STATUSES, *OPEN_RETURN_STATUSES],
    )
    counts = open_ops.values("kind", "status").annotate(n=Count("pk")).order_by()
    by_status = {(row["kind"], row["status"]): row["n"] for row in counts}
    return OrderDesk(
        pending=by_status.get((Kind.ORDER, Status.PENDING), 0),
        approved=by_status.get((Kind.ORDER, Status.APPROVED), 0),
        # A suspended partner cannot report: nothing to act on until it is reactivated.
        awaiting_report=partners_awaiting_report().filter(suspended_at__isnull=True).count(),
        returns_requested=by_status.get((Kind.RETURN, Status.REQUESTED), 0),
        returns_to_receive=by_status.get((Kind.RETURN, Status.SHIPPED), 0),
        recalls_waiting=by_status.get((Kind.RETURN, Status.RECALLED), 0),
    )


# -- sales analytics ---------------------------------------------------------------------------
#
# Sales are the items of recorded sales reports (-q), dated by the report's created_at;
# deliveries are the items of delivered orders (+q), dated by delivered_at. Both are exactly
# the counting items, so every read starts from `counts_in_stock=True`: voided reports and
# pending, approved, cancelled or rejected orders count for nothing.
#
# Revenue at retail is summed in SQL and rounded in Python with `cents` (SQLite does decimal
# arithmetic in floats). The amount due is summed from the invoices of those reports
# (operations.billing), so the analytics say what the invoices say. Each table costs one
# grouped query, plus one over the invoices for the amount due.

BEST_SELLERS_LIMIT = 20
SLOW_MOVERS_LIMIT = 100
DEFAULT_SLOW_DAYS = 90

_MONEY = DecimalField(max_digits=14, decimal_places=2)
_SOLD = -F("quantity")
_REVENUE = ExpressionWrapper(-F("quantity") * F("unit_price"), output_field=_MONEY)


@dataclass(frozen=True)
class SalesFilters:
    """A period of local dates, both included, and an optional partner."""

    date_from: date
    date_to: date
    partner_id: int | None = None
    slow_days: int = DEFAULT_SLOW_DAYS

    @property
    def start_at(self) -> datetime:
        return _local_midnight(self.date_from)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return _local_midnight(self.date_to + timedelta(days=1))


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def default_sales_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve calendar months, the current one included, up to today."""
    today = today or timezone.localdate()
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), today


def _sales_items(filters: SalesFilters) -> QuerySet:
    items = Item.objects.filter(
        operation__counts_in_stock=True,
        operation__kind=Kind.REPORT,
        operation__created_at__gte=filters.start_at,
        operation__created_at__lt=filters.end_at,
    )
    if filters.partner_id:
        items = items.filter(operation__partner_id=filters.partner_id)
    return items


@dataclass
class SalesRow:
    """Copies sold, revenue at retail and amount due for one month, partner or book."""

    key: object = None
    label: str = ""
    detail: str = ""
    copies_delivered: int = 0
    copies_sold: int = 0
    revenue: Decimal = Decimal("0.00")
    amount_due: Decimal = Decimal("0.00")
    partners: int = 0
    copies_returned: int = 0  # received back from returns in the period
    copies_damaged: int = 0  # of them, damaged

    @property
    def sell_through(self) -> Decimal | None:
        """Copies sold / (copies delivered - copies returned) in the period, as a fraction;
        None when nothing delivered stayed with the partner."""
        kept = self.copies_delivered - self.copies_returned
        if kept <= 0:
            return None
        return Decimal(self.copies_sold) / Decimal(kept)

    @property
    def sell_through_percent(self) -> Decimal | None:
        ratio = self.sell_through
        if ratio is None:
            return None
        return (ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _months(date_from: date, date_to: date) -> list[date]:
    months, year, month = [], date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def sales_by_month(filters: SalesFilters) -> list[SalesRow]:
    """One row per calendar month of the period (local time), months without sales included."""
    groups = (
        _sales_items(filters)
        .annotate(month=TruncMonth("operation__created_at"))
        .values("month", "operation__commission_rate")
        .annotate(sold=Sum(_SOLD), revenue=Sum(_REVENUE))
        .order_by()
    )
    rows = {month: SalesRow(key=month) for month in _months(filters.date_from, filters.date_to)}
    for group in groups:
        # TruncMonth truncates in the current time zone; its value is read back in it.
        month = timezone.localtime(group["month"]).date()
        row = rows.setdefault(month, SalesRow(key=month))
        revenue = cents(group["revenue"])
        row.copies_sold += group["sold"]
        row.revenue += revenue
    # Billing: the amount due is what the invoices say (rounded per line).
    invoiced = invoiced_due(
        start_at=filters.start_at,
        end_at=filters.end_at,
        partner_id=filters.partner_id,
        by="month",
    )
    for month, amount in invoiced.items():
        rows.setdefault(month, SalesRow(key=month)).amount_due = amount
    return [rows[month] for month in sorted(rows)]


def sales_by_partner(filters: SalesFilters) -> list[SalesRow]:
    """Per partner with copies delivered or sold in the period: delivered, sold, sell-through,
    revenue and amount due, by store name."""
    delivered_in_period = Q(
        operation__kind=Kind.ORDER,
        operation__delivered_at__gte=filters.start_at,
        operation__delivered_at__lt=filters.end_at,
    )
    sold_in_period = Q(
        operation__kind=Kind.REPORT,
        operation__created_at__gte=filters.start_at,
        operation__created_at__lt=filters.end_at,
    )
    returned_in_period = Q(
        operation__kind=Kind.RETURN,
        operation__received_at__gte=filters.start_at,
        operation__received_at__lt=filters.end_at,
    )
    items = Item.objects.filter(operation__counts_in_stock=True).filter(
        delivered_in_period | sold_in_period | returned_in_period
    )
    if filters.partner_id:
        items = items.filter(operation__partner_id=filters.partner_id)
    groups = (
        items.values(
            "operation__partner_id",
            "operation__partner__store_name",
            "operation__partner__city",
            "operation__commission_rate",
        )
        .annotate(
            delivered=Sum("quantity", filter=delivered_in_period),
            sold=Sum(_SOLD, filter=sold_in_period),
            revenue=Sum(_REVENUE, filter=sold_in_period),
            returned=Sum(-F("quantity"), filter=returned_in_period),
            damaged=Sum("damaged", filter=returned_in_period),
        )
        .order_by()
    )
    rows: dict[int, SalesRow] = {}
    for group in groups:
        pk = group["operation__partner_id"]
        row = rows.get(pk)
        if row is None:
            row = rows[pk] = SalesRow(
                key=pk,
                label=group["operation__partner__store_name"],
                detail=group["operation__partner__city"],
            )
        row.copies_delivered += group["delivered"] or 0
        row.copies_sold += group["sold"] or 0
        row.copies_returned += group["returned"] or 0
        row.copies_damaged += group["damaged"] or 0
        if group["revenue"] is not None:
            revenue = cents(group["revenue"])
            row.revenue += revenue
    # Billing: the amount due is what the invoices say (rounded per line).
    invoiced = invoiced_due(
        start_at=filters.start_at,
        end_at=filters.end_at,
        partner_id=filters.partner_id,
        by="partner",
    )
    for pk, amount in invoiced.items():
        if pk in rows:  # sold in the period, so listed
            rows[pk].amount_due = amount
    return sorted(rows.values(), key=lambda r: (r.label.casefold(), r.key))


def best_sellers(filters: SalesFilters, *, limit: int = BEST_SELLERS_LIMIT) -> list[SalesRow]:
    """Books by copies sold in the period, then by revenue, then by title; the first `limit`."""
    groups = (
        _sales_items(filters)
        .values("book_id", "book__title", "book__isbn")
        .annotate(
            sold=Sum(_SOLD),
            revenue=Sum(_REVENUE),
            partners=Count("operation__partner_id", distinct=True),
        )
        .order_by("-sold", "-revenue", "book__title", "book_id")[:limit]
    )
    return [
        SalesRow(
            key=group["book_id"],
            label=group["book__title"],
            detail=group["book__isbn"],
            copies_sold=group["sold"],
            revenue=cents(group["revenue"]),
            partners=group["partners"],
        )
        for group in groups
    ]


def sales_totals(rows: list[SalesRow]) -> SalesRow:
    """The totals row: the sum of the rows shown, so that each column adds up."""
    total = SalesRow()
    for row in rows:
        total.copies_delivered += row.copies_delivered
        total.copies_sold += row.copies_sold
        total.copies_returned += row.copies_returned
        total.copies_damaged += row.copies_damaged
        total.revenue += row.revenue
        total.amount_due += row.amount_due
    return total


@dataclass(frozen=True)
class SlowMover:
    partner_id: int
    partner: str
    book_id: int
    title: str
    isbn: str
    copies: int
    value: Decimal  # at today's retail price
    last_delivery_at: datetime
    last_sale_at: datetime | None


def slow_movers(
    filters: SalesFilters, *, now: datetime | None = None, limit: int = SLOW_MOVERS_LIMIT
) -> list[SlowMover]:
    """(partner, book) pairs held, last delivered more than `slow_days` ago and not sold since
    that many days, oldest delivery first; the first `limit`. Independent of the period."""
    cutoff = (now or timezone.now()) - timedelta(days=filters.slow_days)
    items = Item.objects.filter(operation__counts_in_stock=True)
    if filters.partner_id:
        items = items.filter(operation__partner_id=filters.partner_id)
    pairs = (
        items.values(
            "operation__partner_id",
            "operation__partner__store_name",
            "book_id",
            "book__title",
            "book__isbn",
            "book__price",
        )
        .annotate(
            held=Sum("quantity"),
            last_delivery_at=Max("operation__delivered_at", filter=Q(operation__kind=Kind.ORDER)),
            last_sale_at=Max("operation__created_at", filter=Q(operation__kind=Kind.REPORT)),
        )
        .filter(held__gt=0, last_delivery_at__lt=cutoff)
        .filter(Q(last_sale_at__isnull=True) | Q(last_sale_at__lt=cutoff))
        .order_by("last_delivery_at", "operation__partner__store_name", "book__title", "book_id")[
            :limit
        ]
    )
    return [
        SlowMover(
            partner_id=pair["operation__partner_id"],
            partner=pair["operation__partner__store_name"],
            book_id=pair["book_id"],
            title=pair["book__title"],
            isbn=pair["book__isbn"],
            copies=pair["held"],
            value=cents(pair["held"] * pair["book__price"]),
            last_delivery_at=pair["last_delivery_at"],
            last_sale_at=pair["last_sale_at"],
        )
        for pair in pairs
    ]
