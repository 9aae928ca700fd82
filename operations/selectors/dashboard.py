"""The partner's dashboard: its operations right now (in one query), its figures and
account totals, and its notifications."""

from dataclasses import dataclass
from decimal import Decimal
from functools import partial

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
from django.db.models.functions import Coalesce

from accounts.models import Partner
from operations.billing.account import AccountTotals, account_total_annotations, account_totals_from
from operations.billing.models import BillingDocument, DocumentKind
from operations.models import (
    Kind,
    Operation,
    OrderingState,
    PartnerSalesMonth,
    Status,
    StockBalance,
    cents,
)
from toplivres.prepared import PreparedQuery


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
    """One partner's stock (titles and copies from its stock total, their value from its
    balances) and copies (from its monthly rollup), with `more` annotations, as one row
    whatever its history."""
    whole = IntegerField()
    held = StockBalance.objects.held()
    months = PartnerSalesMonth.objects.all()
    return (
        Partner.objects.filter(pk=partner_id)
        .annotate(
            # Titles and copies held: the partner's stock total (one row, kept by the services).
            stock_titles=Coalesce(F("stock_total__titles"), Value(0)),
            stock_copies=Coalesce(F("stock_total__held"), Value(0)),
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
