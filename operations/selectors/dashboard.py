"""Reads over the ledger. Each stock figure is one aggregate query over counting items."""

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Abs, Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from operations.billing.account import AccountTotals, account_total_annotations, account_totals_from
from operations.billing.models import BillingDocument, DocumentKind
from operations.models import (
    Item,
    Kind,
    Operation,
    OrderingState,
    PartnerSalesMonth,
    Status,
    StockBalance,
    cents,
)
from toplivres.prepared import PreparedQuery

ZERO_EUR = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


# -- operations ----------------------------------------------------------------------------


def operation_get_for_partner(*, partner: Partner, pk) -> Operation:
    """One of the partner's operations, or 404: another partner's id is not found."""
    return get_object_or_404(
        Operation.objects.select_related(
            "partner", "created_by", "approved_by", "delivered_by", "closed_by"
        ),
        partner=partner,
        pk=pk,
    )


def operation_items(*, operation: Operation) -> QuerySet:
    return operation.items.select_related("book", "book__series").order_by("book__title", "pk")


def open_operations_for_partner(*, partner: Partner) -> tuple[Operation | None, list[Operation]]:
    """The partner's open order and its open returns, oldest first (one query)."""
    mine = Operation.objects.filter(partner=partner)
    rows = list(
        mine.filter(
            Q(pk__in=mine.open_orders().values("pk")) | Q(pk__in=mine.open_returns().values("pk"))
        ).order_by("created_at", "pk")
    )
    open_order = next((op for op in rows if op.kind == Kind.ORDER), None)
    return open_order, [op for op in rows if op.kind == Kind.RETURN]


def last_report_for_partner(*, partner: Partner) -> Operation | None:
    return (
        Operation.objects.reports()
        .filter(partner=partner, status=Status.RECORDED)
        .order_by("-created_at", "-pk")
        .first()
    )


# -- the dashboard's operations, in one query -------------------------------------------------


@dataclass(frozen=True)
class PartnerMoment:
    """What the partner's dashboard says about its operations right now."""

    state: OrderingState
    latest_order: Operation | None
    last_report: Operation | None
    recalls: list[Operation]


def _moment_rows(partner_id: int) -> QuerySet:
    mine = Operation.objects.filter(partner_id=partner_id)
    awaiting = mine.deliveries_awaiting_report()
    latest_order = mine.orders().order_by("-created_at", "-pk").values("pk")[:1]
    last_report = (
        mine.reports().filter(status=Status.RECORDED).order_by("-created_at", "-pk").values("pk")
    )[:1]
    recalls = Q(kind=Kind.RETURN, status=Status.RECALLED)
    open_orders = mine.open_orders()
    return (
        mine.filter(
            Q(pk__in=open_orders.values("pk"))
            | Q(pk__in=awaiting.values("pk"))
            | Q(pk=Subquery(latest_order))
            | Q(pk=Subquery(last_report))
            | recalls
        )
        .annotate(
            in_open_orders=Exists(open_orders.filter(pk=OuterRef("pk"))),
            in_awaiting=Exists(awaiting.filter(pk=OuterRef("pk"))),
            as_latest_order=ExpressionWrapper(
                Q(pk=Subquery(latest_order)), output_field=BooleanField()
            ),
            as_last_report=ExpressionWrapper(
                Q(pk=Subquery(last_report)), output_field=BooleanField()
            ),
        )
        .select_related("approved_by", "delivered_by", "closed_by")
        .order_by("created_at", "pk")
    )


# Read on every dashboard request (and each poll): compiled once, then only bound.
_MOMENT_ROWS = PreparedQuery(_moment_rows)


def partner_moment(*, partner: Partner) -> PartnerMoment:
    """The ordering state (rules 1 and 2), the latest order, the last recorded report and the
    recalls to ship, read in one query: each is a handful of rows, picked by the same
    conditions as `ordering_state`, `latest_order_for_partner`, `last_report_for_partner` and
    `open_recalls_for_partner`."""
    rows = _MOMENT_ROWS(partner_id=partner.pk)
    return PartnerMoment(
        state=OrderingState.decide(
            open_orders=[op for op in rows if op.in_open_orders],
            awaiting=[op for op in rows if op.in_awaiting],
        ),
        latest_order=next((op for op in rows if op.as_latest_order), None),
        last_report=next((op for op in rows if op.as_last_report), None),
        recalls=[op for op in rows if op.kind == Kind.RETURN and op.status == Status.RECALLED],
    )


# -- the ordering rule, in plain words --------------------------------------------------------


def ordering_state(*, partner: Partner, exclude_pk=None) -> OrderingState:
    """Rules 1 and 2 for `partner`, as the model states them (Operation.clean uses the same)."""
    return Operation.objects.ordering_state(partner=partner, exclude_pk=exclude_pk)


# -- stock -----------------------------------------------------------------------------------


def _counting_items() -> QuerySet:
    return Item.objects.counting()


def stock_quantities_for_partner(*, partner: Partner) -> dict[int, int]:
    """{book_id: copies held} for every book the partner holds (one query on the balance)."""
    return StockBalance.objects.held_by(partner=partner)


_VALUE = ExpressionWrapper(
    F("quantity") * F("book__price"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


def stock_for_partner(*, partner: Partner) -> QuerySet:
    """Per book held: copies, reserved copies, free copies, retail value at today's price,
    last delivery and last sale (from the stored balance)."""
    return (
        StockBalance.objects.held()
        .with_free()
        .filter(partner=partner)
        .values(
            "book_id",
            "book__title",
            "book__authors",
            "book__isbn",
            "book__price",
            "book__series__name",
            "quantity",
            "reserved",
            "free",
            "last_delivery_at",
            "last_sale_at",
        )
        .annotate(value=_VALUE)
        .order_by("book__title", "book_id")
    )


# The sorts offered on the portal's stock page: key -> order_by terms (title breaks ties).
STOCK_SORTS = {
    "title": ("book__title", "book_id"),
    "-title": (F("book__title").desc(), F("book_id").desc()),
    "copies": ("quantity", "book__title", "book_id"),
    "-copies": (F("quantity").desc(), "book__title", "book_id"),
    "delivery": (F("last_delivery_at").asc(nulls_first=True), "book__title", "book_id"),
    "-delivery": (F("last_delivery_at").desc(nulls_last=True), "book__title", "book_id"),
    "sale": (F("last_sale_at").asc(nulls_first=True), "book__title", "book_id"),
    "-sale": (F("last_sale_at").desc(nulls_last=True), "book__title", "book_id"),
}


def stock_search_for_partner(*, partner: Partner, query: str = "", sort: str = "title") -> QuerySet:
    """stock_for_partner narrowed to titles matching `query` (title, authors, series, ISBN
    with or without hyphens) and sorted by one of STOCK_SORTS; one indexed query a page."""
    rows = stock_for_partner(partner=partner)
    query = (query or "").strip()
    if query:
        condition = (
            Q(book__title__icontains=query)
            | Q(book__authors__icontains=query)
            | Q(book__series__name__icontains=query)
        )
        digits = query.replace("-", "").replace(" ", "")
        if digits.isdigit() and len(digits) >= 4:
            condition |= Q(book__isbn__contains=digits)
        with contextlib.suppress(ValidationError):  # not an ISBN-10: words only
            condition |= Q(book__isbn=normalize_isbn(query))
        rows = rows.filter(condition)
    return rows.order_by(*STOCK_SORTS.get(sort, STOCK_SORTS["title"]))


def stock_rows_for_books(*, partner: Partner, book_ids) -> dict[int, dict]:
    """{book_id: stock row} for those of `book_ids` the partner holds (one query)."""
    ids = [pk for pk in book_ids if isinstance(pk, int) and 0 < pk < 2**62]
    if not ids:
        return {}
    return {
        row["book_id"]: row for row in stock_for_partner(partner=partner).filter(book_id__in=ids)
    }


def stock_for_book(*, book) -> QuerySet:
    """Per partner holding `book`: copies and retail value."""
    return (
        StockBalance.objects.held()
        .filter(book=book)
        .values("partner_id", "partner__store_name", "quantity")
        .annotate(
            value=ExpressionWrapper(
                F("quantity") * Value(book.price),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .order_by("partner__store_name", "partner_id")
    )


@dataclass(frozen=True)
class StockTotals:
    titles: int
    copies: int
    value: Decimal


def stock_totals(*, partner: Partner | None = None) -> StockTotals:
    """Titles, copies and retail value held, by one partner or by all (one query)."""
    balances = StockBalance.objects.held()
    if partner is not None:
        balances = balances.filter(partner=partner)
    sums = balances.aggregate(
        titles=Count("book_id", distinct=True),
        copies=Coalesce(Sum("quantity"), Value(0), output_field=IntegerField()),
        value=Coalesce(
            Sum(
                F("quantity") * F("book__price"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            ZERO_EUR,
        ),
    )
    return StockTotals(titles=sums["titles"], copies=sums["copies"], value=cents(sums["value"]))


def quantity_sum(items: QuerySet) -> int:
    return items.aggregate(total=Coalesce(Sum("quantity"), Value(0), output_field=IntegerField()))[
        "total"
    ]


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerFigures:
    copies_delivered: int
    copies_sold: int
    revenue: Decimal  # at retail: sum of copies sold x snapshotted unit price
    amount_due: Decimal  # revenue x (1 - commission)
    stock_copies: int
    stock_titles: int
    stock_value: Decimal  # at today's retail price
    copies_returned: int = 0  # received back by the publisher
    copies_damaged: int = 0  # of them, damaged

    @property
    def sell_through(self) -> Decimal | None:
        """Copies sold / (copies delivered - copies returned), as a fraction; None while
        nothing delivered stayed with the partner."""
        kept = self.copies_delivered - self.copies_returned
        if kept <= 0:
            return None
        return Decimal(self.copies_sold) / Decimal(kept)


def _summed(rows: QuerySet, expression, output_field) -> Subquery:
    """One partner's total of `expression` over `rows` (correlated on the partner's pk)."""
    return Coalesce(
        Subquery(
            rows.filter(partner_id=OuterRef("pk"))
            .order_by()
            .values("partner_id")
            .annotate(total=Sum(expression, output_field=output_field))
            .values("total")
        ),
        Value(0, output_field=output_field),
    )


_MONEY = DecimalField(max_digits=14, decimal_places=2)
_FIGURE_COLUMNS = (
    "stock_titles",
    "stock_copies",
    "stock_value",
    "copies_delivered",
    "copies_sold",
    "copies_returned",
    "copies_damaged",
)


def _partner_rows(partner_id: int, **more) -> QuerySet:
    """One partner's stock (from its balances) and copies (from its monthly rollup), with
    `more` annotations, as one row whatever its history."""
    whole = IntegerField()
    held = StockBalance.objects.held()
    months = PartnerSalesMonth.objects.all()
    return (
        Partner.objects.filter(pk=partner_id)
        .annotate(
            stock_titles=_summed(held, Value(1), whole),
            stock_copies=_summed(held, F("quantity"), whole),
            stock_value=_summed(held, F("quantity") * F("book__price"), _MONEY),
            copies_delivered=_summed(months, F("delivered"), whole),
            copies_sold=_summed(months, F("sold"), whole),
            copies_returned=_summed(months, F("returned"), whole),
            copies_damaged=_summed(months, F("damaged"), whole),
            **more,
        )
        .values(*_FIGURE_COLUMNS, *more)
    )


def _partner_row(partner: Partner, **more) -> dict:
    return _partner_rows(partner.pk, **more).get()


def _figures(row: dict, **money) -> PartnerFigures:
    fields = {name: row[name] for name in _FIGURE_COLUMNS}
    fields["stock_value"] = cents(row["stock_value"])
    return PartnerFigures(**fields, **money)


def _overview_rows(partner_id: int) -> QuerySet:
    documents = BillingDocument.objects.all()
    return _partner_rows(
        partner_id,
        invoiced_gross=_summed(
            documents.filter(kind=DocumentKind.INVOICE), F("total_gross"), _MONEY
        ),
        credited_gross=_summed(
            documents.filter(kind=DocumentKind.CREDIT_NOTE), F("total_gross"), _MONEY
        ),
        **account_total_annotations(),
    )


_OVERVIEW_ROWS = PreparedQuery(_overview_rows)


def partner_overview(*, partner: Partner) -> tuple[PartnerFigures, AccountTotals]:
    """The dashboard's figures and the partner's account totals, in one query. Revenue and
    amount due are those of its invoices less its credit notes, VAT included: what the
    paper says."""
    [row] = _OVERVIEW_ROWS(partner_id=partner.pk)
    totals = account_totals_from(row)
    figures = _figures(
        row,
        revenue=cents(row["invoiced_gross"]) - cents(row["credited_gross"]),
        amount_due=totals.invoiced - totals.credited,
    )
    return figures, totals


def partner_figures(*, partner: Partner) -> PartnerFigures:
    """Delivered, sold, sell-through, revenue, amount due and stock of one partner, in two
    queries whatever its history: the stock from its balances, the copies from its monthly
    rollup, and the money from its invoices and credit notes (one per report that sold
    something and per void: `ledger_check` proves they match the reports)."""
    row = _partner_row(partner)
    # Revenue per commission rate: each report is due at the rate recorded with it.
    sign = Case(When(kind=DocumentKind.CREDIT_NOTE, then=Value(-1)), default=Value(1))
    per_rate = (
        BillingDocument.objects.filter(partner=partner)
        .values("commission_rate")
        .annotate(revenue=Sum(sign * F("total_gross"), output_field=_MONEY))
        .values_list("commission_rate", "revenue")
    )
    revenue = due = Decimal("0.00")
    for rate, rate_revenue in per_rate:
        rate_revenue = cents(rate_revenue)
        revenue += rate_revenue
        due += rate_revenue * (Decimal(1) - (rate or Decimal(0)) / Decimal(100))
    return _figures(row, revenue=revenue, amount_due=cents(due))


# -- notifications -----------------------------------------------------------------------------


def notifications_for(*, user, unread_only: bool = False) -> QuerySet:
    from operations.models import Notification

    notices = Notification.objects.filter(recipient=user).select_related("operation")
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-pk")


def unread_notification_count(*, user) -> int:
    return notifications_for(user=user, unread_only=True).count()


def _unread_rows(user_id: int, *, limit: int) -> QuerySet:
    unread = notifications_for(user=user_id, unread_only=True)
    return unread.annotate(unread_total=Window(Count("pk")))[:limit]


_UNREAD_ROWS: dict[int, PreparedQuery] = {}


def unread_notices(*, user, limit: int) -> tuple[list, int]:
    """The `limit` newest unread notices and how many are unread in all, in one query."""
    prepared = _UNREAD_ROWS.get(limit)
    if prepared is None:
        prepared = _UNREAD_ROWS[limit] = PreparedQuery(partial(_unread_rows, limit=limit))
    rows = prepared(user_id=user.pk)
    return rows, (rows[0].unread_total if rows else 0)


# -- portal --------------------------------------------------------------------------------


def _lines_total(expression, output_field, zero) -> Coalesce:
    """Σ expression over the operation's own lines (correlated on OuterRef("pk")): read for
    the rows of the page only, never by grouping the whole history."""
    lines = (
        Item.objects.filter(operation_id=OuterRef("pk"))
        .order_by()
        .values("operation_id")
        .annotate(total=Sum(expression, output_field=output_field))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=output_field), zero)


def operation_history_for_partner(*, partner: Partner) -> QuerySet:
    """The partner's orders and reports, newest first, each with its copies and amount: the
    page walks the partner's newest-first index and sums the lines of its own rows, and the
    count reads no line."""
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        Operation.objects.filter(partner=partner)
        .annotate(
            copies=_lines_total(Abs("quantity"), IntegerField(), Value(0)),
            amount=_lines_total(Abs("quantity") * F("unit_price"), money, ZERO_EUR),
        )
        .order_by("-created_at", "-pk")
    )


def newest_report_pk(*, partner: Partner) -> int:
    """Primary key of the partner's newest report (any status), 0 if none.

    A report form remembers it when shown: if it changed by the time the form comes back,
    the form was already sent (double click, back button, second tab).
    """
    pk = (
        Operation.objects.reports()
        .filter(partner=partner)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return pk or 0


def latest_order_for_partner(*, partner: Partner) -> Operation | None:
    """The partner's most recent order, whatever its status."""
    return (
        Operation.objects.orders()
        .filter(partner=partner)
        .select_related("approved_by", "delivered_by", "closed_by")
        .order_by("-created_at", "-pk")
        .first()
    )


# -- returns ------------------------------------------------------------------------------------


def return_get_for_partner(*, partner: Partner, pk) -> Operation:
    """One of the partner's returns, or 404."""
    ret = get_object_or_404(
        Operation.objects.returns().select_related(
            "partner", "created_by", "shipped_by", "received_by", "closed_by"
        ),
        partner=partner,
        pk=pk,
    )
    return ret


def open_recalls_for_partner(*, partner: Partner) -> list[Operation]:
    """Recalls the partner has yet to ship: the first thing to do on its dashboard."""
    return list(
        Operation.objects.filter(
            partner=partner, kind=Kind.RETURN, status=Status.RECALLED
        ).order_by("created_at", "pk")
    )


def open_returns_for_partner(*, partner: Partner) -> list[Operation]:
    return list(Operation.objects.open_returns().filter(partner=partner).order_by("created_at"))


def return_shortfalls_for_partner(*, partner: Partner, book_ids=None) -> dict[int, list[dict]]:
    """{book_id: [{"reference", "missing"}]}: copies listed on a received return that did not
    reach the publisher; they are still the partner's stock. `book_ids`: only those books."""
    items = Item.objects.filter(
        operation__partner=partner,
        operation__kind=Kind.RETURN,
        operation__status=Status.RECEIVED,
        quantity__gt=-F("requested"),
    )
    if book_ids is not None:
        items = items.filter(book_id__in=list(book_ids))
    rows = items.values_list("book_id", "operation__reference", "requested", "quantity").order_by(
        "operation__created_at"
    )
    found: dict[int, list[dict]] = {}
    for book_id, reference, requested, quantity in rows:
        found.setdefault(book_id, []).append(
            {"reference": reference, "missing": requested + quantity}
        )
    return found


def return_candidates(*, partner: Partner, months: int) -> list[dict]:
    """The titles the partner could send back (copies held and not yet in a return), those
    with no sale (nor delivery) for `months` months first, the longest on the shelf first."""
    now = timezone.now()
    limit = now - timedelta(days=round(months * 30.44))
    rows = []
    for row in stock_for_partner(partner=partner):
        if row["free"] <= 0:
            continue
        since = row["last_sale_at"] or row["last_delivery_at"]
        rows.append(
            {
                **row,
                "shelf_since": since,
                "shelf_months": int((now - since).days / 30.44) if since else None,
                "suggested": since is not None and since < limit,
            }
        )
    rows.sort(key=lambda r: (not r["suggested"], r["shelf_since"] or now, r["book__title"]))
    return rows
