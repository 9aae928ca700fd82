"""Reads of a partner's account: what is open, its balance and credit, the receivables, and
the account's lines in date order with a running balance. Each read runs a fixed number of
queries, whatever the history's length.

    balance = invoices − credit notes − payments (not cancelled) = Σ open amounts − credit
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Partner
from operations.billing.models import BillingDocument, DocumentKind, Invoice
from operations.billing.payments import MONEY, ZERO, Allocation, Payment
from toplivres.prepared import PreparedQuery

CENT = Decimal("0.01")
NOTHING = Decimal("0.00")


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def open_amount(invoice: BillingDocument) -> Decimal:
    """What is still to pay on an invoice (no query when it comes from `with_allocated()`)."""
    return invoice.still_due()


def open_invoices(*, partner) -> list[BillingDocument]:
    """The partner's invoices with something to pay, oldest due first, each with
    `open_amount` and `allocated` (one query)."""
    return _OPEN_INVOICES(partner_id=getattr(partner, "pk", partner))


def _open_invoice_rows(partner_id: int) -> QuerySet:
    rows = Invoice.objects.filter(partner_id=partner_id).open().select_related("credit_note")
    return rows.order_by("due_date", "issue_date", "sequence", "pk")


# Read on every dashboard request: compiled once, then only bound.
_OPEN_INVOICES = PreparedQuery(_open_invoice_rows)


@dataclass(frozen=True)
class AccountTotals:
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    credit: Decimal  # not yet applied: payments' rest and credit notes' rest

    @property
    def balance(self) -> Decimal:
        return self.invoiced - self.credited - self.paid


def _sum_of(rows: QuerySet, column: str) -> Subquery:
    """Σ column of `rows` (already filtered to OuterRef("pk") as the partner), or 0."""
    summed = rows.order_by().values("partner_id").annotate(total=Sum(column)).values("total")
    return Coalesce(Subquery(summed, output_field=MONEY), ZERO)


ACCOUNT_SUMS = ("invoiced", "credited", "paid", "paid_applied", "credit_applied")


def account_total_annotations() -> dict:
    """The sums behind `AccountTotals`, as annotations of a Partner query (each correlated
    on the partner's pk), so that other reads of the partner can carry them in one query."""
    mine = OuterRef("pk")
    documents = BillingDocument.objects.filter(partner_id=mine)
    allocations = Allocation.objects.filter(partner_id=mine)
    return {
        "invoiced": _sum_of(documents.filter(kind=DocumentKind.INVOICE), "total_incl_vat"),
        "credited": _sum_of(documents.filter(kind=DocumentKind.CREDIT_NOTE), "total_incl_vat"),
        "paid": _sum_of(Payment.objects.valid().filter(partner_id=mine), "amount"),
        "paid_applied": _sum_of(allocations.filter(payment__isnull=False), "amount"),
        "credit_applied": _sum_of(allocations.filter(credit_note__isnull=False), "amount"),
    }


def account_totals_from(sums: dict) -> AccountTotals:
    credited, paid = _cents(sums["credited"]), _cents(sums["paid"])
    return AccountTotals(
        invoiced=_cents(sums["invoiced"]),
        credited=credited,
        paid=paid,
        credit=(paid - _cents(sums["paid_applied"])) + (credited - _cents(sums["credit_applied"])),
    )


def account_totals(*, partner) -> AccountTotals:
    """Invoiced, credited, paid and credit left of one partner, in one query."""
    sums = (
        Partner.objects.filter(pk=getattr(partner, "pk", partner))
        .annotate(**account_total_annotations())
        .values(*ACCOUNT_SUMS)
        .get()
    )
    return account_totals_from(sums)


def partner_balance(partner) -> Decimal:
    """What the partner owes: invoices − credit notes − payments not cancelled (negative
    when it has paid in advance)."""
    return account_totals(partner=partner).balance


def partner_credit(partner) -> Decimal:
    """Money of the partner's not yet applied to an invoice: the unapplied part of its
    payments and the part of its credit notes that their invoice did not need."""
    return account_totals(partner=partner).credit


@dataclass(frozen=True)
class AccountSummary:
    """What a partner's dashboard says about money."""

    totals: AccountTotals
    open_invoices: list
    today: date

    @property
    def balance(self) -> Decimal:
        return self.totals.balance

    @property
    def credit(self) -> Decimal:
        return self.totals.credit

    @property
    def open_total(self) -> Decimal:
        return sum((_cents(i.open_amount) for i in self.open_invoices), NOTHING)

    @property
    def overdue_invoices(self) -> list:
        return [i for i in self.open_invoices if i.due_date < self.today]

    @property
    def overdue_total(self) -> Decimal:
        return sum((_cents(i.open_amount) for i in self.overdue_invoices), NOTHING)

    @property
    def next_due(self):
        upcoming = [i for i in self.open_invoices if i.due_date >= self.today]
        return upcoming[0] if upcoming else None


def account_summary(*, partner, today: date | None = None) -> AccountSummary:
    """Balance, credit and open invoices of one partner (two queries)."""
    return AccountSummary(
        totals=account_totals(partner=partner),
        open_invoices=open_invoices(partner=partner),
        today=today or timezone.localdate(),
    )


# -- receivables ---------------------------------------------------------------------------------

BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_over_60")


def _bucket(due_date: date, today: date) -> str:
    late = (today - due_date).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    return "days_over_60"


@dataclass
class PartnerReceivable:
    partner: Partner
    not_due: Decimal = NOTHING
    days_1_30: Decimal = NOTHING
    days_31_60: Decimal = NOTHING
    days_over_60: Decimal = NOTHING
    invoices: int = 0

    @property
    def overdue(self) -> Decimal:
        return self.days_1_30 + self.days_31_60 + self.days_over_60

    @property
    def total(self) -> Decimal:
        return self.not_due + self.overdue


@dataclass
class Receivables:
    today: date
    partners: list = field(default_factory=list)  # most overdue first

    def _sum(self, name) -> Decimal:
        return sum((getattr(row, name) for row in self.partners), NOTHING)

    @property
    def total(self) -> Decimal:
        return self._sum("total")

    @property
    def overdue(self) -> Decimal:
        return self._sum("overdue")

    @property
    def buckets(self) -> dict:
        return {name: self._sum(name) for name in BUCKETS}


def receivables(*, today: date | None = None) -> Receivables:
    """Everything owed on open invoices, by age past the due date (not yet due, 1–30,
    31–60, over 60 days), per partner, the partners with the most overdue first (two
    queries)."""
    today = today or timezone.localdate()
    rows = Invoice.objects.open().values_list("partner_id", "due_date", "open_amount")
    per_partner: dict[int, PartnerReceivable] = {}
    for partner_id, due_date, amount in rows.order_by():
        row = per_partner.setdefault(partner_id, PartnerReceivable(partner=None))
        name = _bucket(due_date, today)
        setattr(row, name, getattr(row, name) + _cents(amount))
        row.invoices += 1
    partners = Partner.objects.select_related("user").in_bulk(list(per_partner))
    for partner_id, row in per_partner.items():
        row.partner = partners[partner_id]
    ordered = sorted(
        per_partner.values(),
        key=lambda r: (-r.overdue, -r.days_over_60, -r.total, r.partner.store_name),
    )
    return Receivables(today=today, partners=ordered)


# -- the account, line by line -------------------------------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    day: date
    kind: str  # "invoice", "credit_note" or "payment"
    document: BillingDocument | None
    payment: Payment | None
    debit: Decimal  # what it adds to the balance (an invoice)
    credit: Decimal  # what it takes off (a credit note, a payment)
    balance: Decimal  # the running balance after this line

    @property
    def label(self) -> str:
        if self.document is not None:
            return self.document.number
        return self.payment.reference or self.payment.get_method_display()


@dataclass(frozen=True)
class Account:
    partner: Partner
    date_from: date | None
    date_to: date | None
    opening: Decimal
    lines: list
    closing: Decimal

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), NOTHING)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), NOTHING)


def account_lines(partner, date_from: date | None = None, date_to: date | None = None) -> Account:
    """The partner's account between two dates (both included; either may be open): the
    balance before `date_from`, then each invoice, credit note and payment (not cancelled)
    in date order with the running balance, then the closing balance (four queries)."""
    documents = BillingDocument.objects.filter(partner=partner)
    payments = Payment.objects.valid().filter(partner=partner)
    opening = NOTHING
    if date_from is not None:
        before = documents.filter(issue_date__lt=date_from).aggregate(
            invoiced=Coalesce(Sum("total_incl_vat", filter=Q(kind=DocumentKind.INVOICE)), ZERO),
            credited=Coalesce(Sum("total_incl_vat", filter=Q(kind=DocumentKind.CREDIT_NOTE)), ZERO),
        )
        paid = payments.filter(received_on__lt=date_from).aggregate(
            total=Coalesce(Sum("amount"), ZERO)
        )["total"]
        opening = _cents(before["invoiced"]) - _cents(before["credited"]) - _cents(paid)
        documents = documents.filter(issue_date__gte=date_from)
        payments = payments.filter(received_on__gte=date_from)
    if date_to is not None:
        documents = documents.filter(issue_date__lte=date_to)
        payments = payments.filter(received_on__lte=date_to)
    entries = [
        (d.issue_date, 0 if d.is_invoice else 1, d.issued_at.timestamp(), d.pk, d, None)
        for d in documents.select_related("credited_invoice", "report").order_by()
    ] + [(p.received_on, 2, p.recorded_at.timestamp(), p.pk, None, p) for p in payments.order_by()]
    entries.sort(key=lambda entry: entry[:4])
    balance = opening
    lines = []
    for day, _order, _at, _pk, document, payment in entries:
        if document is not None and document.is_invoice:
            debit, credit = document.total_incl_vat, NOTHING
        elif document is not None:
            debit, credit = NOTHING, document.total_incl_vat
        else:
            debit, credit = NOTHING, payment.amount
        balance = balance + debit - credit
        lines.append(AccountLine(day, _kind(document), document, payment, debit, credit, balance))
    return Account(partner, date_from, date_to, opening, lines, balance)


def _kind(document) -> str:
    if document is None:
        return "payment"
    return "invoice" if document.is_invoice else "credit_note"


# -- payments ------------------------------------------------------------------------------------


def payments() -> QuerySet:
    return Payment.objects.select_related("partner", "recorded_by", "cancelled_by").order_by(
        "-received_on", "-pk"
    )


def payments_for_partner(*, partner) -> QuerySet:
    """The partner's payments, newest first, cancelled ones included (marked)."""
    return payments().filter(partner=partner)


def payment_get(*, pk) -> Payment:
    return get_object_or_404(payments(), pk=pk)


def invoices_for_partner(*, partner) -> QuerySet:
    """The partner's invoices, newest first, with what is paid and still due on each."""
    return (
        Invoice.objects.filter(partner=partner)
        .with_allocated()
        .select_related("credit_note")
        .order_by("-issue_date", "-sequence", "-pk")
    )


def days_overdue(invoice, today: date | None = None) -> int:
    return max(0, ((today or timezone.localdate()) - invoice.due_date).days)


def period_default(today: date | None = None) -> tuple[date, date]:
    """The statement's default period: the current year up to today."""
    today = today or timezone.localdate()
    return date(today.year, 1, 1), today
