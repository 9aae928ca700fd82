"""Reads of invoices and credit notes, scoped by partner where a partner reads them."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from operations.billing.models import BillingDocument, BillingLine, DocumentKind
from operations.billing.money import round_cent

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def documents() -> QuerySet:
    """Each with what is paid on it (`with_allocated`), so its status costs no query."""
    return (
        BillingDocument.objects.select_related(
            "partner", "report", "credit_note", "credited_invoice"
        )
        .with_allocated()
        .order_by("-issue_date", "-sequence", "-pk")
    )


def documents_for_partner(*, partner) -> QuerySet:
    """The partner's invoices and credit notes, newest first."""
    return documents().filter(partner=partner)


def document_get_for_partner(*, partner, pk) -> BillingDocument:
    """One of the partner's documents, or 404: another partner's id is not found."""
    return get_object_or_404(documents(), partner=partner, pk=pk)


def document_lines(*, document: BillingDocument) -> QuerySet:
    return document.lines.order_by("position")


def documents_for_report(*, report) -> list[BillingDocument]:
    """The invoice, then the credit note, of one report (none for a nothing-sold report)."""
    return sorted(documents().filter(report=report), key=lambda d: d.kind != DocumentKind.INVOICE)


def lines_for_export(documents: QuerySet) -> QuerySet:
    return (
        BillingLine.objects.filter(document__in=documents.order_by().values("pk"))
        .select_related("document__partner", "document__report", "document__credited_invoice")
        .order_by("document__kind", "document__year", "document__sequence", "position")
    )


@dataclass(frozen=True)
class BilledMoney:
    revenue: Decimal  # sales at retail, invoiced less credited
    amount_due: Decimal  # due to the publisher incl. VAT, invoiced less credited


def billed_money(*, partner=None, report=None) -> BilledMoney:
    """ "Sales at retail" and "Due to the publisher", from the invoices and credit notes: what
    the screen shows is what the paper says (one aggregate query)."""
    rows = BillingDocument.objects.all()
    if partner is not None:
        rows = rows.filter(partner=partner)
    if report is not None:
        rows = rows.filter(report=report)
    invoices, credits = Q(kind=DocumentKind.INVOICE), Q(kind=DocumentKind.CREDIT_NOTE)
    sums = rows.aggregate(
        gross=Coalesce(Sum("total_gross", filter=invoices), ZERO),
        gross_credited=Coalesce(Sum("total_gross", filter=credits), ZERO),
        due=Coalesce(Sum("total_incl_vat", filter=invoices), ZERO),
        due_credited=Coalesce(Sum("total_incl_vat", filter=credits), ZERO),
    )
    return BilledMoney(
        revenue=sums["gross"] - sums["gross_credited"],
        amount_due=sums["due"] - sums["due_credited"],
    )


def documents_by_report(*, report_ids) -> dict[int, list[BillingDocument]]:
    """{report id: [invoice, credit note]} for a page of reports (one query)."""
    found: dict[int, list[BillingDocument]] = {}
    rows = BillingDocument.objects.filter(report_id__in=list(report_ids)).order_by("kind", "pk")
    for document in rows.only("pk", "kind", "number", "report_id", "total_incl_vat"):
        found.setdefault(document.report_id, []).append(document)
    return found


def invoiced_due(*, start_at, end_at, partner_id=None, by: str) -> dict:
    """Due to the publisher per month (by="month") or per partner (by="partner"), summed from
    the invoices of the reports recorded in [start_at, end_at) and not voided."""
    rows = BillingDocument.objects.filter(
        kind=DocumentKind.INVOICE,
        report__counts_in_stock=True,
        report__created_at__gte=start_at,
        report__created_at__lt=end_at,
    )
    if partner_id:
        rows = rows.filter(partner_id=partner_id)
    if by == "month":
        rows = rows.annotate(key=TruncMonth("report__created_at"))
    else:
        rows = rows.annotate(key=F("partner_id"))
    sums = rows.values("key").annotate(due=Sum("total_incl_vat")).order_by()
    found = {}
    for row in sums:
        # TruncMonth truncates in the current time zone; its value is read back in it.
        key = timezone.localtime(row["key"]).date() if by == "month" else row["key"]
        found[key] = found.get(key, Decimal("0.00")) + round_cent(row["due"])
    return found
