"""Sales analytics: the period and its rows, sales per month and per partner, and the totals
row. The books sold and those that do not sell are in `books`."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, ExpressionWrapper, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Rank, TruncMonth
from django.utils import timezone

from operations.analytics.stock import _MONEY
from operations.billing.selectors import invoiced_due
from operations.models import Item, Kind, PartnerSalesMonth, PartnerSalesTrailing
from operations.rollups import next_month, trailing_roll, window_month, window_months
from operations.selectors import cents

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
# The page opens on the last twelve months. For that period (across every partner) the
# trailing rollups hold the twelve months already summed, one row per book and per partner
# (`with_trailing` tells the reads to use them), so the page reads the same number of rows
# whatever the size of the catalogue or the history.
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
    # Set by `with_trailing`: the last month of the trailing twelve months that the period is.
    window: date | None = None

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


def with_trailing(filters: SalesFilters, today: date | None = None) -> SalesFilters:
    """The same filters, set to read the trailing rollups when the period is the twelve months
    ending with this one, across every partner. The first such read of a month rolls the
    window forward (`trailing_roll`)."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    split = _split(filters, today)
    if (
        filters.partner_id
        or split.edges
        or (split.first_month, split.last_month) != window_months(month)
    ):
        return filters
    current = window_month()
    if current is None or current < month:
        current = trailing_roll(month=month)
    return replace(filters, window=month) if current == month else filters


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
        if filters.window:
            groups = PartnerSalesTrailing.objects.filter(window=filters.window).values(
                "partner_id",
                "partner__store_name",
                "partner__city",
                copies_delivered=F("delivered"),
                copies_sold=F("sold"),
                amount=F("revenue"),
                copies_returned=F("returned"),
                copies_damaged=F("damaged"),
            )
        else:
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


@dataclass
class PartnerSales:
    """The page's table of partners: the first `limit` (see `top_partners`), how many
    partners the period lists, and the totals row over all of them."""

    rows: list[SalesRow]
    count: int
    total: SalesRow


_PARTNER_SUMS = ("delivered", "sold", "revenue", "returned", "damaged")
# A partner is listed when something was delivered, sold or returned (as `sales_by_partner`).
_LISTED = ~Q(delivered=0, sold=0, revenue=0, returned=0)


def partner_sales(filters: SalesFilters, *, limit: int = SALES_PARTNERS_LIMIT) -> PartnerSales:
    """The partners' table of the page. Over the trailing twelve months, one query ranks the
    partners' rows and sums them all (a window over the rows), so that only the first
    `limit` (and those tied with the last) leave the database; otherwise from
    `sales_by_partner`."""
    if not filters.window:
        rows = sales_by_partner(filters)
        return PartnerSales(top_partners(rows, limit), len(rows), sales_totals(rows))
    sums = {f"all_{name}": Window(Sum(name)) for name in _PARTNER_SUMS}
    ranked = (
        PartnerSalesTrailing.objects.filter(_LISTED, window=filters.window)
        .annotate(
            rank=Window(Rank(), order_by=[F("sold").desc(), F("revenue").desc()]),
            listed=Window(Count("pk")),
            **sums,
        )
        .filter(rank__lte=limit)
        .values(
            "partner_id", "partner__store_name", "partner__city", *_PARTNER_SUMS, *sums, "listed"
        )
    )
    ranked = list(ranked)
    invoiced = invoiced_due(start_at=filters.start_at, end_at=filters.end_at, by="partner")
    rows = [
        SalesRow(
            key=row["partner_id"],
            label=row["partner__store_name"],
            detail=row["partner__city"],
            copies_delivered=row["delivered"],
            copies_sold=row["sold"],
            revenue=cents(row["revenue"]),
            copies_returned=row["returned"],
            copies_damaged=row["damaged"],
            amount_due=invoiced.get(row["partner_id"], Decimal("0.00")),
        )
        for row in ranked
    ]
    total = SalesRow(amount_due=sum(invoiced.values(), Decimal("0.00")))
    if ranked:
        first = ranked[0]
        total.copies_delivered = first["all_delivered"]
        total.copies_sold = first["all_sold"]
        total.revenue = cents(first["all_revenue"])
        total.copies_returned = first["all_returned"]
        total.copies_damaged = first["all_damaged"]
    count = ranked[0]["listed"] if ranked else 0
    return PartnerSales(top_partners(rows, limit), count, total)


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
