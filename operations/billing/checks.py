"""What `manage.py ledger_check` verifies about invoices and credit notes (DOMAIN rule 11).

`billing_violations()` returns one plain sentence per broken rule, naming the rows; an empty
list means the billing side of the ledger is whole.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from operations.billing.models import NUMBER_PREFIXES, BillingDocument, DocumentKind
from operations.billing.money import line_amounts
from operations.billing.payments import Allocation, Payment
from operations.models import Item, Kind, Operation, ReferenceCounter, Status

TOTALS = {
    "total_gross": "gross",
    "total_commission": "commission",
    "total_excl_vat": "net_excl_vat",
    "total_vat": "vat",
    "total_incl_vat": "net_incl_vat",
}


def billing_violations() -> list[str]:
    return [
        *_reports_and_invoices(),
        *_voids_and_credit_notes(),
        *_numbering(),
        *_totals_and_lines(),
    ]


def _expected_due(report_items, commission_rate, vat_rate) -> Decimal:
    return sum(
        (
            line_amounts(
                copies=item.copies,
                unit_price=item.unit_price,
                commission_rate=commission_rate or 0,
                vat_rate=vat_rate,
            ).net_incl_vat
            for item in report_items
        ),
        Decimal("0.00"),
    )


def _reports_and_invoices() -> list[str]:
    problems = []
    invoices = defaultdict(list)
    for invoice in BillingDocument.objects.filter(kind=DocumentKind.INVOICE):
        invoices[invoice.report_id].append(invoice)
    items = defaultdict(list)
    for item in Item.objects.filter(operation__kind=Kind.REPORT).only(
        "operation_id", "quantity", "unit_price"
    ):
        items[item.operation_id].append(item)
    reports = Operation.objects.filter(kind=Kind.REPORT).only(
        "pk", "reference", "status", "commission_rate"
    )
    for report in reports:
        found = invoices.pop(report.pk, [])
        sold = items.get(report.pk, [])
        if not sold:
            if found:
                problems.append(
                    f"Report {report.pk} ({report.reference}) sold nothing but has invoice(s) "
                    f"{', '.join(f'{i.pk} ({i.number})' for i in found)}."
                )
            continue
        if len(found) != 1:
            if report.status == Status.RECORDED or found:
                problems.append(
                    f"Report {report.pk} ({report.reference}) sold something and has "
                    f"{len(found)} invoices instead of one."
                )
            continue
        invoice = found[0]
        expected = _expected_due(sold, report.commission_rate, invoice.vat_rate)
        if invoice.total_incl_vat != expected:
            problems.append(
                f"Invoice {invoice.pk} ({invoice.number}) totals {invoice.total_incl_vat}, but "
                f"report {report.pk} ({report.reference}) comes to {expected}."
            )
    for report_id, orphans in invoices.items():
        problems.append(
            f"Invoice(s) {', '.join(f'{i.pk} ({i.number})' for i in orphans)} belong to "
            f"operation {report_id}, which is not a sales report."
        )
    return problems


def _voids_and_credit_notes() -> list[str]:
    problems = []
    invoices = BillingDocument.objects.filter(kind=DocumentKind.INVOICE).select_related("report")
    credits = defaultdict(list)
    for credit in BillingDocument.objects.filter(kind=DocumentKind.CREDIT_NOTE):
        credits[credit.credited_invoice_id].append(credit)
    for invoice in invoices:
        found = credits.pop(invoice.pk, [])
        voided = invoice.report.status == Status.VOIDED
        if voided and len(found) != 1:
            problems.append(
                f"Report {invoice.report_id} ({invoice.report.reference}) is voided: its "
                f"invoice {invoice.pk} ({invoice.number}) has {len(found)} credit notes "
                "instead of one."
            )
        elif not voided and found:
            problems.append(
                f"Invoice {invoice.pk} ({invoice.number}) is credited by "
                f"{', '.join(f'{c.pk} ({c.number})' for c in found)}, but its report "
                f"{invoice.report_id} is not voided."
            )
        for credit in found:
            if credit.total_incl_vat != invoice.total_incl_vat:
                problems.append(
                    f"Credit note {credit.pk} ({credit.number}) credits {credit.total_incl_vat} "
                    f"of invoice {invoice.pk} ({invoice.number}) of {invoice.total_incl_vat}."
                )
            if credit.report_id != invoice.report_id:
                problems.append(
                    f"Credit note {credit.pk} ({credit.number}) names report {credit.report_id}, "
                    f"its invoice {invoice.pk} report {invoice.report_id}."
                )
    for invoice_id, orphans in credits.items():
        problems.append(
            f"Credit note(s) {', '.join(f'{c.pk} ({c.number})' for c in orphans)} credit "
            f"document {invoice_id}, which is not an invoice."
        )
    return problems


def _numbering() -> list[str]:
    problems = []
    rows = BillingDocument.objects.values_list(
        "pk", "kind", "year", "sequence", "number", "issue_date"
    )
    by_series = defaultdict(list)
    for pk, kind, year, sequence, number, day in rows.order_by("kind", "year", "sequence", "pk"):
        by_series[(kind, year)].append((sequence, pk, number, day))
    for (kind, year), dated in sorted(by_series.items()):
        prefix = NUMBER_PREFIXES[kind]
        entries = [(sequence, pk, number) for sequence, pk, number, _day in dated]
        # Chronological: a later number never bears an earlier date.
        for (_s, _p, earlier, day), (_s2, pk, number, next_day) in zip(
            dated, dated[1:], strict=False
        ):
            if next_day < day:
                problems.append(
                    f"Document {pk} ({number}) is dated {next_day}, before {earlier} ({day})."
                )
        sequences = [sequence for sequence, _pk, _number in entries]
        if sequences != list(range(1, len(sequences) + 1)):
            seen = set(sequences)
            missing = sorted(set(range(1, max(sequences) + 1)) - seen)
            twice = sorted({s for s in sequences if sequences.count(s) > 1})
            problems.append(
                f"{prefix}-{year}: numbers are not gapless and unique "
                f"(missing {missing or 'none'}, duplicated {twice or 'none'})."
            )
        for sequence, pk, number in entries:
            if number != f"{prefix}-{year}-{sequence:05d}":
                problems.append(f"Document {pk}: number {number} does not match {sequence}.")
        counter = ReferenceCounter.objects.filter(prefix=prefix, year=year).first()
        if counter is None or counter.last_value != len(entries):
            problems.append(
                f"{prefix}-{year}: the counter says {counter.last_value if counter else 0}, "
                f"but {len(entries)} documents exist."
            )
    return problems


def _totals_and_lines() -> list[str]:
    problems = []
    documents = BillingDocument.objects.annotate(
        line_count=Count("lines"),
        **{f"sum_{name}": Sum(f"lines__{column}") for name, column in TOTALS.items()},
    )
    for document in documents:
        if not document.line_count:
            problems.append(f"Document {document.pk} ({document.number}) has no lines.")
            continue
        for name in TOTALS:
            total, summed = getattr(document, name), getattr(document, f"sum_{name}")
            if total != Decimal(summed).quantize(Decimal("0.01")):
                problems.append(
                    f"Document {document.pk} ({document.number}): {name} is {total}, "
                    f"its lines sum to {summed}."
                )
    return problems


def ledger_violations():
    """The billing violations as `manage.py ledger_check` lists them (registered in apps.py)."""
    from operations.ledger import Violation

    for message in billing_violations():
        yield Violation("billing", message)


# -- payments and allocations --------------------------------------------------------------------


def payment_violations() -> list[str]:
    """Allocations within their payment, credit note and invoice; none from a cancelled
    payment; every amount positive; each allocation within one partner's account; and for
    every partner, balance == Σ open amounts − credit."""
    problems = []
    for payment in Payment.objects.filter(amount__lte=0).values("pk", "amount"):
        problems.append(f"Payment {payment['pk']} has amount {payment['amount']}.")
    for row in Allocation.objects.filter(amount__lte=0).values("pk", "amount"):
        problems.append(f"Allocation {row['pk']} has amount {row['amount']}.")
    payments = {p.pk: p for p in Payment.objects.only("pk", "partner_id", "amount", "cancelled_at")}
    columns = ("pk", "kind", "number", "partner_id", "total_incl_vat")
    documents = {d.pk: d for d in BillingDocument.objects.only(*columns)}
    used_payment = defaultdict(Decimal)
    used_note = defaultdict(Decimal)
    paid_invoice = defaultdict(Decimal)
    rows = Allocation.objects.values_list(
        "pk", "partner_id", "invoice_id", "payment_id", "credit_note_id", "amount"
    )
    for pk, partner_id, invoice_id, payment_id, note_id, amount in rows.order_by("pk"):
        amount = Decimal(amount)
        invoice = documents.get(invoice_id)
        if invoice is None or invoice.kind != DocumentKind.INVOICE:
            problems.append(f"Allocation {pk} pays document {invoice_id}, which is not an invoice.")
            continue
        paid_invoice[invoice_id] += amount
        partners = {partner_id, invoice.partner_id}
        if payment_id is not None:
            payment = payments[payment_id]
            used_payment[payment_id] += amount
            partners.add(payment.partner_id)
            if payment.cancelled_at is not None:
                problems.append(
                    f"Allocation {pk} applies cancelled payment {payment_id} to invoice "
                    f"{invoice_id} ({invoice.number})."
                )
        if note_id is not None:
            note = documents.get(note_id)
            if note is None or note.kind != DocumentKind.CREDIT_NOTE:
                problems.append(f"Allocation {pk} takes from {note_id}, not a credit note.")
                continue
            used_note[note_id] += amount
            partners.add(note.partner_id)
        if len(partners) != 1:
            problems.append(f"Allocation {pk} mixes the accounts of partners {sorted(partners)}.")
    for payment_id, used in used_payment.items():
        if used > payments[payment_id].amount:
            problems.append(
                f"Payment {payment_id} of {payments[payment_id].amount} is applied for {used}."
            )
    for note_id, used in used_note.items():
        note = documents[note_id]
        if used > note.total_incl_vat:
            problems.append(
                f"Credit note {note_id} ({note.number}) of {note.total_incl_vat} is applied "
                f"for {used}."
            )
    for invoice_id, paid in paid_invoice.items():
        invoice = documents[invoice_id]
        if paid > invoice.total_incl_vat:
            problems.append(
                f"Invoice {invoice_id} ({invoice.number}) of {invoice.total_incl_vat} is paid "
                f"{paid}."
            )
    # balance == Σ open − credit, each side from its own rows.
    balance = defaultdict(Decimal)
    open_total = defaultdict(Decimal)
    credit = defaultdict(Decimal)
    for document in documents.values():
        if document.kind == DocumentKind.INVOICE:
            balance[document.partner_id] += document.total_incl_vat
            open_total[document.partner_id] += document.total_incl_vat - paid_invoice[document.pk]
        else:
            balance[document.partner_id] -= document.total_incl_vat
            credit[document.partner_id] += document.total_incl_vat - used_note[document.pk]
    for payment in payments.values():
        if payment.cancelled_at is None:
            balance[payment.partner_id] -= payment.amount
            credit[payment.partner_id] += payment.amount - used_payment[payment.pk]
    for partner_id in sorted(set(balance) | set(credit)):
        expected = open_total[partner_id] - credit[partner_id]
        if balance[partner_id] != expected:
            problems.append(
                f"Partner {partner_id}: balance {balance[partner_id]} (invoices − credit notes − "
                f"payments), but open invoices less credit come to {expected}."
            )
    return problems


def payment_ledger_violations():
    """The payment violations as `manage.py ledger_check` lists them (registered in apps.py)."""
    from operations.ledger import Violation

    for message in payment_violations():
        yield Violation("payments", message)
