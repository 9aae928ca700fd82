"""Reads for the back office: stock across partners, and what waits for an admin.

Stock held by a partner for a book is the sum of its counting items (see selectors). Here the
positive (partner, book) pairs are read in one grouped query and folded per book or per
partner, so that a partner counts as holding a book only while it has copies left.
"""

import contextlib
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Rank, TruncMonth
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from operations.billing.selectors import invoiced_due
from operations.lifecycle import OPEN_ORDER_STATUSES, OPEN_RETURN_STATUSES
from operations.models import (
    BookSalesMonth,
    BookStockTotal,
    Item,
    Kind,
    Operation,
    PartnerBookSalesMonth,
    PartnerSalesMonth,
    PartnerStockTotal,
    Status,
    StockBalance,
)
from operations.rollups import next_month
from operations.selectors import cents


@dataclass
class StockRow:
    """Copies held and their retail value (today's price), for one book or one partner."""

    pk: int
    label: str
    detail: str = ""
    copies: int = 0
    value: Decimal | None = Decimal("0.00")  # None: not priced on a page of partners
    spread: int = 0  # partners holding the book, or titles the partner holds


@dataclass(frozen=True)
class StockFilters:
    series_id: int | None = None
    partner_id: int | None = None
    book_id: int | None = None
    query: str = ""
    sort: str = ""  # "" by name, or one of STOCK_SORTS: the largest first


STOCK_SORTS = ("copies", "spread", "value")


def _isbn_or_text(query: str, *, title: str, authors: str, isbn: str) -> Q:
    condition = (
        Q(**{f"{title}__icontains": query})
        | Q(**{f"{authors}__icontains": query})
        | Q(**{f"{isbn}__contains": query.replace("-", "").replace(" ", "")})
    )
    with contextlib.suppress(ValidationError):
        condition |= Q(**{isbn: normalize_isbn(query)})
    return condition


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
        held = held.filter(
            _isbn_or_text(query, title="book__title", authors="book__authors", isbn="book__isbn")
            | Q(partner__store_name__icontains=query)
        )
    return held


_MONEY = DecimalField(max_digits=14, decimal_places=2)
_HELD_VALUE = Sum(F("quantity") * F("book__price"), output_field=_MONEY)


class StockTable:
    """Stock per book or per partner in label order (or largest first, see `STOCK_SORTS`):
    sliced by a paginator one page at a time, or iterated whole for a CSV.

    `values_of`, when given, prices the rows of the CSV, a chunk at a time, in one query
    each: the per-partner rollup keeps copies, not their value at today's prices, and pricing
    a page of partners would sum every title they hold. A page of such rows has no value
    (`priced_pages` is False); a partner's own page (the partner filter) prices each title."""

    def __init__(
        self,
        grouped: QuerySet,
        *,
        key: str,
        label: str,
        detail: str,
        spread: str,
        values_of=None,
    ):
        self.grouped = grouped
        self.names = (key, label, detail, spread)
        self.values_of = values_of
        self.priced_pages = values_of is None

    def _rows(self, groups: list[dict], *, priced: bool = True) -> list[StockRow]:
        key, label, detail, spread = self.names
        prices = {}
        if self.values_of and priced:
            prices = self.values_of([values[key] for values in groups])
        return [
            StockRow(
                pk=values[key],
                label=values[label],
                detail=values[detail],
                copies=values["copies"],
                value=(
                    cents(values["value"])
                    if not self.values_of
                    else cents(prices.get(values[key], 0))
                    if priced
                    else None
                ),
                spread=values["spread"],
            )
            for values in groups
        ]

    def count(self) -> int:
        return self.grouped.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(list(self.grouped[index]), priced=self.priced_pages)
        return self._rows([self.grouped[index]], priced=self.priced_pages)[0]

    def __iter__(self):
        chunk = []
        for values in self.grouped.iterator(chunk_size=2000):
            chunk.append(values)
            if len(chunk) == 2000:
                yield from self._rows(chunk)
                chunk = []
        yield from self._rows(chunk)


def _ordered(grouped: QuerySet, filters: StockFilters, *, label: str, key: str) -> QuerySet:
    if filters.sort in STOCK_SORTS and filters.sort in grouped.query.annotations:
        return grouped.order_by(f"-{filters.sort}", label, key)
    return grouped.order_by(label, key)


def _value_per_partner(partner_ids) -> dict[int, Decimal]:
    rows = (
        StockBalance.objects.held()
        .filter(partner_id__in=partner_ids)
        .values("partner_id")
        .annotate(value=_HELD_VALUE)
        .order_by()
    )
    return {row["partner_id"]: row["value"] for row in rows}


# `held + 0 > 0`: the rows of `held > 0`, read without the index on held, so that a page in
# title order walks the books' title index and stops with the page (SQLite would otherwise
# take every book held through that index and sort them all).
_HOLDING = GreaterThan(F("held") + Value(0), 0)


def _books_held(filters: StockFilters) -> QuerySet:
    """The per-book rollup rows with copies held, within the filters that name books."""
    books = BookStockTotal.objects.filter(_HOLDING)
    if filters.series_id:
        books = books.filter(book__series_id=filters.series_id)
    if filters.book_id:
        books = books.filter(book_id=filters.book_id)
    query = (filters.query or "").strip()
    if query:
        books = books.filter(
            _isbn_or_text(query, title="book__title", authors="book__authors", isbn="book__isbn")
        )
    return books


def _partners_holding(filters: StockFilters) -> QuerySet:
    """The per-partner rollup rows with copies held, searched by store name or city."""
    partners = PartnerStockTotal.objects.filter(_HOLDING)
    query = (filters.query or "").strip()
    if query:
        partners = partners.filter(
            Q(partner__store_name__icontains=query) | Q(partner__city__icontains=query)
        )
    return partners


def stock_per_book(filters: StockFilters) -> StockTable:
    """One row per book held by at least one partner (within the filters), by title.

    Read from the per-book rollup, one row per book; for one partner's books, from that
    partner's balances (an indexed read of one partner). The search looks for the book."""
    if filters.partner_id:
        grouped = (
            _held(filters)
            .values("book_id", "book__title", "book__isbn")
            .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("partner_id"))
        )
    else:
        grouped = (
            _books_held(filters)
            .annotate(
                copies=F("held"),
                value=ExpressionWrapper(F("held") * F("book__price"), output_field=_MONEY),
                spread=F("partners"),
            )
            .values("book_id", "book__title", "book__isbn", "copies", "value", "spread")
        )
    return StockTable(
        _ordered(grouped, filters, label="book__title", key="book_id"),
        key="book_id",
        label="book__title",
        detail="book__isbn",
        spread="spread",
    )


def stock_per_partner(filters: StockFilters) -> StockTable:
    """One row per partner holding copies (within the filters), by store name.

    Read from the per-partner rollup, one row per partner, its retail value priced for the
    rows shown; for the holders of one book or one series, from those books' balances. The
    search looks for the partner (store name or city)."""
    if filters.book_id or filters.series_id or filters.partner_id:
        grouped = (
            _held(filters)
            .values("partner_id", "partner__store_name", "partner__city")
            .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("book_id"))
        )
        values_of = None
    else:
        grouped = (
            _partners_holding(filters)
            .annotate(copies=F("held"), spread=F("titles"))
            .values("partner_id", "partner__store_name", "partner__city", "copies", "spread")
        )
        values_of = _value_per_partner
    return StockTable(
        _ordered(grouped, filters, label="partner__store_name", key="partner_id"),
        key="partner_id",
        label="partner__store_name",
        detail="partner__city",
        spread="spread",
        values_of=values_of,
    )


def stock_summary(filters: StockFilters, *, by_partner: bool = False) -> dict:
    """Copies and retail value held within the filters (one aggregate): from the per-book
    rollup, or from the balances of the partner (or the partners searched) concerned."""
    if filters.partner_id or (by_partner and (filters.book_id or filters.series_id)):
        sums = _held(filters).aggregate(copies=Sum("quantity"), value=_HELD_VALUE)
    elif by_partner and (filters.query or "").strip():
        sums = (
            StockBalance.objects.held()
            .filter(partner_id__in=_partners_holding(filters).values("partner_id"))
            .aggregate(copies=Sum("quantity"), value=_HELD_VALUE)
        )
    else:
        sums = _books_held(filters).aggregate(
            copies=Sum("held"),
            value=Sum(F("held") * F("book__price"), output_field=_MONEY),
        )
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
# The whole months of the period are read from the monthly rollups that the services keep
# (`PartnerSalesMonth`, `BookSalesMonth`: one row per partner or book and month, a void taken
# back out of its report's month); the days of a month the period covers only in part are
# read from the items, which bounds that read by one month at each end. A month that runs
# past today counts as whole when the period reaches today: nothing is dated later.
#
# Revenue at retail is summed in SQL and rounded in Python with `cents` (SQLite does decimal
# arithmetic in floats). The amount due is summed from the invoices of those reports
# (operations.billing), so the analytics say what the invoices say.

BEST_SELLERS_LIMIT = 20
SALES_PARTNERS_LIMIT = 50
SLOW_MOVERS_LIMIT = 100
DEFAULT_SLOW_DAYS = 90

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


@dataclass(frozen=True)
class _Split:
    """A period cut into whole months (read from the rollups) and the days around them (read
    from the items)."""

    first_month: date | None
    last_month: date | None
    edges: tuple[SalesFilters, ...]


def _split(filters: SalesFilters, today: date | None = None) -> _Split:
    today = today or timezone.localdate()
    first = filters.date_from.replace(day=1)
    if first < filters.date_from:
        first = next_month(first)
    last, month = None, first
    while month <= filters.date_to.replace(day=1):
        month_end = next_month(month) - timedelta(days=1)
        if month_end <= filters.date_to or filters.date_to >= today:
            last = month
        month = next_month(month)
    if last is None:
        return _Split(None, None, (filters,))
    edges = []
    if filters.date_from < first:
        edges.append(replace(filters, date_to=first - timedelta(days=1)))
    after = next_month(last)
    if after <= filters.date_to:
        edges.append(replace(filters, date_from=after))
    return _Split(first, last, tuple(edges))


def _partner_months(filters: SalesFilters, split: _Split) -> QuerySet:
    rows = PartnerSalesMonth.objects.filter(
        month__gte=split.first_month, month__lte=split.last_month
    )
    if filters.partner_id:
        rows = rows.filter(partner_id=filters.partner_id)
    return rows


def sales_by_month(filters: SalesFilters) -> list[SalesRow]:
    """One row per calendar month of the period (local time), months without sales included."""
    rows = {month: SalesRow(key=month) for month in _months(filters.date_from, filters.date_to)}
    split = _split(filters)
    if split.first_month:
        groups = (
            _partner_months(filters, split)
            .values("month")
            .annotate(copies=Sum("sold"), amount=Sum("revenue"))
            .order_by()
        )
        for group in groups:
            row = rows.setdefault(group["month"], SalesRow(key=group["month"]))
            row.copies_sold += group["copies"]
            row.revenue += cents(group["amount"])
    for edge in split.edges:
        groups = (
            _sales_items(edge)
            .annotate(month=TruncMonth("operation__created_at"))
            .values("month")
            .annotate(sold=Sum(_SOLD), revenue=Sum(_REVENUE))
            .order_by()
        )
        for group in groups:
            # TruncMonth truncates in the current time zone; its value is read back in it.
            month = timezone.localtime(group["month"]).date()
            row = rows.setdefault(month, SalesRow(key=month))
            row.copies_sold += group["sold"]
            row.revenue += cents(group["revenue"])
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


def _partner_row(rows: dict, pk: int, label: str, detail: str) -> SalesRow:
    row = rows.get(pk)
    if row is None:
        row = rows[pk] = SalesRow(key=pk, label=label, detail=detail)
    return row


def sales_by_partner(filters: SalesFilters) -> list[SalesRow]:
    """Per partner with copies delivered or sold in the period: delivered, sold, sell-through,
    revenue and amount due, by store name."""
    rows: dict[int, SalesRow] = {}
    split = _split(filters)
    if split.first_month:
        groups = (
            _partner_months(filters, split)
            .values("partner_id", "partner__store_name", "partner__city")
            .annotate(
                copies_delivered=Sum("delivered"),
                copies_sold=Sum("sold"),
                amount=Sum("revenue"),
                copies_returned=Sum("returned"),
                copies_damaged=Sum("damaged"),
            )
            .order_by()
        )
        for group in groups:
            if not any(
                group[name]
                for name in ("copies_delivered", "copies_sold", "amount", "copies_returned")
            ):
                continue  # a month whose report was voided, nothing else
            row = _partner_row(
                rows, group["partner_id"], group["partner__store_name"], group["partner__city"]
            )
            row.copies_delivered += group["copies_delivered"]
            row.copies_sold += group["copies_sold"]
            row.revenue += cents(group["amount"])
            row.copies_returned += group["copies_returned"]
            row.copies_damaged += group["copies_damaged"]
    for edge in split.edges:
        _ledger_by_partner(edge, rows)
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


def top_partners(rows: list[SalesRow], limit: int = SALES_PARTNERS_LIMIT) -> list[SalesRow]:
    """The partners that sold the most copies (then the most revenue), for the page."""
    ranked = sorted(rows, key=lambda r: (-r.copies_sold, -r.revenue, r.label.casefold(), r.key))
    return ranked[:limit]


def _ledger_by_partner(filters: SalesFilters, rows: dict[int, SalesRow]) -> None:
    """Add the items of a part of the period (a part of a month), per partner."""
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
    for group in groups:
        row = _partner_row(
            rows,
            group["operation__partner_id"],
            group["operation__partner__store_name"],
            group["operation__partner__city"],
        )
        row.copies_delivered += group["delivered"] or 0
        row.copies_sold += group["sold"] or 0
        row.copies_returned += group["returned"] or 0
        row.copies_damaged += group["damaged"] or 0
        if group["revenue"] is not None:
            row.revenue += cents(group["revenue"])


_BOOK_KEY = ExpressionWrapper(F("book_id") + Value(0), output_field=IntegerField())


def best_sellers(
    filters: SalesFilters, *, limit: int | None = BEST_SELLERS_LIMIT
) -> list[SalesRow]:
    """Books by copies sold in the period, then by revenue, then by title; the first `limit`
    (every book sold with limit=None).

    Whole months are summed from the monthly rollup per book, grouped by book alone (no join
    per row); titles are read for the books that can make the cut only."""
    split = _split(filters)
    sums: dict[int, list] = {}  # book id -> [copies sold, revenue]
    if filters.partner_id or not split.first_month:
        # One partner's sales (bounded by that partner), or less than a whole month.
        parts = [filters]
    else:
        months = BookSalesMonth.objects.filter(
            month__gte=split.first_month, month__lte=split.last_month
        )
        # Grouped by `book_id + 0`: the same groups, but SQLite then reads the period's
        # months from their covering index instead of every month of every book.
        grouped = (
            months.values(book_key=_BOOK_KEY)
            .annotate(copies=Sum("sold"), amount=Sum("revenue"))
            .filter(copies__gt=0)
        )
        if not split.edges and limit is not None and limit > 0:
            # The books selling at least as many copies as the `limit`-th one, in the same
            # pass over the period (a rank over the groups): those tied with it are then
            # ordered by revenue and title.
            grouped = grouped.annotate(rank=Window(Rank(), order_by=F("copies").desc())).filter(
                rank__lte=limit
            )
        rows = grouped.order_by().values_list("book_key", "copies", "amount")
        sums = {book_id: [copies, amount] for book_id, copies, amount in rows}
        parts = split.edges
    for part in parts:
        grouped = (
            _sales_items(part).values("book_id").annotate(sold=Sum(_SOLD), amount=Sum(_REVENUE))
        )
        for book_id, copies, amount in grouped.order_by().values_list("book_id", "sold", "amount"):
            found = sums.setdefault(book_id, [0, Decimal("0.00")])
            found[0] += copies
            found[1] += amount
    ranked = sorted(
        (
            (-copies, -cents(amount), book_id)
            for book_id, (copies, amount) in sums.items()
            if copies > 0
        )
    )
    if limit is not None:
        if limit <= 0:
            return []
        if len(ranked) > limit:
            # The books tied with the last one shown are ordered by title: read them too.
            cut = ranked[limit - 1][:2]
            ranked = [rank for rank in ranked if rank[:2] <= cut]
    books = _books_sold(filters, book_ids=None if limit is None else [r[2] for r in ranked])
    ordered = sorted(ranked, key=lambda rank: (rank[0], rank[1], books[rank[2]][0], rank[2]))
    if limit is not None:
        ordered = ordered[:limit]
    return [
        SalesRow(
            key=book_id,
            label=books[book_id][0],
            detail=books[book_id][1],
            copies_sold=-sold,
            revenue=-revenue,
            partners=books[book_id][2],
        )
        for sold, revenue, book_id in ordered
    ]


def _books_sold(filters: SalesFilters, *, book_ids: list[int] | None) -> dict[int, tuple]:
    """{book id: (title, ISBN, partners that sold it in the period)} for the books ranked (all
    books sold with None), in one query: from the rollup of each partner's sales of a book per
    month when the period is whole months, else from the period's items."""
    if book_ids == []:
        return {}
    split = _split(filters)
    if split.first_month and not split.edges:
        rows = PartnerBookSalesMonth.objects.filter(
            month__gte=split.first_month, month__lte=split.last_month, sold__gt=0
        )
        partner = "partner_id"
    else:
        rows = _sales_items(filters)
        partner = "operation__partner_id"
    if filters.partner_id:
        rows = rows.filter(**{partner: filters.partner_id})
    if book_ids is not None:
        rows = rows.filter(book_id__in=book_ids)
    counts = (
        rows.values("book_id", "book__title", "book__isbn")
        .annotate(partners=Count(partner, distinct=True))
        .order_by()
    )
    return {
        row["book_id"]: (row["book__title"], row["book__isbn"], row["partners"]) for row in counts
    }


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
    filters: SalesFilters, *, now: datetime | None = None, limit: int | None = SLOW_MOVERS_LIMIT
) -> list[SlowMover]:
    """(partner, book) pairs held, last delivered more than `slow_days` ago and not sold since
    that many days, oldest delivery first (then by partner and book, as delivered together);
    the first `limit`. Independent of the period.

    Read from the stored balances (last delivery and last sale of each pair), along their
    index of held copies by last delivery: the read stops after `limit` rows."""
    cutoff = (now or timezone.now()) - timedelta(days=filters.slow_days)
    pairs = StockBalance.objects.held().filter(last_delivery_at__lt=cutoff)
    pairs = pairs.filter(Q(last_sale_at__isnull=True) | Q(last_sale_at__lt=cutoff))
    if filters.partner_id:
        pairs = pairs.filter(partner_id=filters.partner_id)
    pairs = pairs.values(
        "partner_id",
        "partner__store_name",
        "book_id",
        "book__title",
        "book__isbn",
        "book__price",
        "quantity",
        "last_delivery_at",
        "last_sale_at",
    ).order_by("last_delivery_at", "partner_id", "book_id")  # the index's order: no sort
    if limit is not None:
        pairs = pairs[:limit]
    return [
        SlowMover(
            partner_id=pair["partner_id"],
            partner=pair["partner__store_name"],
            book_id=pair["book_id"],
            title=pair["book__title"],
            isbn=pair["book__isbn"],
            copies=pair["quantity"],
            value=cents(pair["quantity"] * pair["book__price"]),
            last_delivery_at=pair["last_delivery_at"],
            last_sale_at=pair["last_sale_at"],
        )
        for pair in pairs
    ]
