"""Issue invoices and credit notes. Called by the report services, inside their transaction.

The caller (`report_submit`, `report_void`) holds the partner's lock in its transaction; the
document is written in that same transaction, so a recorded report that sold something never
exists without its invoice, and a voided one never without its credit note.

Numbers (FAC-2026-00001, AVO-2026-00001) are global across partners: the partner lock does not
serialise them. The UPDATE of the counter row does: it locks the row until commit, so a second
transaction waits there and reads the value the first one committed. A rollback undoes the
increment with the document, so the sequence has no gap.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from operations import clock
from operations.billing.models import (
    NUMBER_PREFIXES,
    BillingDocument,
    BillingLine,
    CreditNote,
    DocumentKind,
    Invoice,
)
from operations.billing.money import line_amounts, totals_of
from operations.billing.payment_services import credit_apply_to_invoice, credit_note_settle
from operations.models import Operation, ReferenceCounter, Status

logger = logging.getLogger(__name__)


def next_number(*, kind: str, at: datetime) -> tuple[int, int, str]:
    """(year, sequence, number) for a new document; the counter row stays locked until commit."""
    prefix = NUMBER_PREFIXES[kind]
    year = timezone.localtime(at).year
    try:
        with transaction.atomic():
            ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
    except IntegrityError:
        pass  # created by a concurrent transaction: the update below waits for it
    ReferenceCounter.objects.filter(prefix=prefix, year=year).update(last_value=F("last_value") + 1)
    value = ReferenceCounter.objects.get(prefix=prefix, year=year).last_value
    return year, value, f"{prefix}-{year}-{value:05d}"


def _time_under_counter_lock(*, at: datetime, year: int) -> datetime:
    """The issue time, read once the counter row is locked: numbers are handed out in lock
    order, so reading the clock here makes a later number never dated earlier, whichever of
    two partners reached its lock first. Never before `at` (the report's or the void's own
    time); if the year turned meanwhile, `at`, so the date stays in the numbered year."""
    now = max(clock.now(), at)
    return now if timezone.localtime(now).year == year else at


def seller_identity() -> dict:
    """The seller's legal identity from the settings, as frozen on each document."""
    vat_number = settings.SELLER_VAT_NUMBER
    return {
        "seller_name": settings.SELLER_NAME,
        "seller_address": settings.SELLER_ADDRESS,
        "seller_postal_code": settings.SELLER_POSTAL_CODE,
        "seller_city": settings.SELLER_CITY,
        "seller_country": settings.SELLER_COUNTRY,
        "seller_siren": settings.SELLER_SIREN,
        "seller_siret": settings.SELLER_SIRET,
        "seller_vat_number": vat_number,
        "seller_vat_exempt_mention": "" if vat_number else settings.SELLER_VAT_EXEMPT_MENTION,
        "seller_email": settings.SELLER_EMAIL,
        "seller_iban": settings.SELLER_IBAN,
    }


def _vat_rate():
    # A VAT-exempt micro-business invoices without VAT.
    return settings.BOOK_VAT_RATE if settings.SELLER_VAT_NUMBER else 0


def invoice_issue_for_report(*, report: Operation) -> Invoice | None:
    """Issue the invoice of a recorded report that sold something; None if nothing was sold.

    The caller holds the partner's lock inside its transaction, and has written the report's
    items. Amounts follow operations.billing.money.line_amounts, one line per title.
    """
    assert transaction.get_connection().in_atomic_block, "call inside the report transaction"
    if report.status != Status.RECORDED or not report.is_report:
        return None
    items = list(report.items.select_related("book").order_by("book__title", "pk"))
    if not items:
        return None
    partner = report.partner
    user = partner.user
    commission_rate = report.commission_rate or 0
    vat_rate = _vat_rate()
    amounts = [
        line_amounts(
            copies=item.copies,
            unit_price=item.unit_price,
            commission_rate=commission_rate,
            vat_rate=vat_rate,
        )
        for item in items
    ]
    totals = totals_of(amounts)
    year, sequence, number = next_number(kind=DocumentKind.INVOICE, at=report.created_at)
    at = _time_under_counter_lock(at=report.created_at, year=year)
    issue_date = timezone.localtime(at).date()
    invoice = Invoice(
        kind=DocumentKind.INVOICE,
        number=number,
        year=year,
        sequence=sequence,
        report=report,
        partner=partner,
        issued_at=at,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=settings.PAYMENT_TERMS_DAYS),
        language=user.language,
        **seller_identity(),
        buyer_name=partner.store_name,
        buyer_address=partner.address,
        buyer_postal_code=partner.postal_code,
        buyer_city=partner.city,
        buyer_email=user.email,
        commission_rate=commission_rate,
        vat_rate=vat_rate,
        payment_terms_days=settings.PAYMENT_TERMS_DAYS,
        late_penalty_rate=settings.LATE_PENALTY_RATE,
        recovery_indemnity=settings.RECOVERY_INDEMNITY,
        total_gross=totals.gross,
        total_commission=totals.commission,
        total_excl_vat=totals.net_excl_vat,
        total_vat=totals.vat,
        total_incl_vat=totals.net_incl_vat,
    )
    invoice.full_clean(exclude=["report", "partner"])
    invoice.save()
    BillingLine.objects.bulk_create(
        BillingLine(
            document=invoice,
            position=position,
            isbn=item.book.isbn,
            title=item.book.title,
            copies=item.copies,
            unit_price=item.unit_price,
            commission_rate=commission_rate,
            vat_rate=vat_rate,
            gross=line.gross,
            commission=line.commission,
            net_excl_vat=line.net_excl_vat,
            vat=line.vat,
            net_incl_vat=line.net_incl_vat,
        )
        for position, (item, line) in enumerate(zip(items, amounts, strict=True), start=1)
    )
    audit_record(
        action="invoice.issued",
        actor=report.created_by,
        obj=invoice,
        partner=partner,
        after=_audited(invoice),
    )
    # The partner's credit (an overpayment, a credit note's rest) pays it at once.
    credit_apply_to_invoice(invoice=invoice, by=report.created_by)
    _after_issue(invoice)
    return invoice


def credit_note_issue_for_void(
    *, report: Operation, at: datetime | None = None
) -> CreditNote | None:
    """Credit the invoice of a report being voided, in full; None if it had no invoice.
    What the invoice still had open is cancelled; what was already paid becomes credit.

    The caller holds the partner's lock inside the transaction that voids the report. The
    credit note copies the invoice's frozen lines and totals: the same amounts, cancelled.
    """
    assert transaction.get_connection().in_atomic_block, "call inside the void transaction"
    invoice = Invoice.objects.filter(report_id=report.pk).first()
    if invoice is None:
        return None
    if CreditNote.objects.filter(credited_invoice=invoice).exists():
        return None  # already credited (the void is guarded by its status; this is a backstop)
    at = at or getattr(report, "closed_at", None) or clock.now()
    year, sequence, number = next_number(kind=DocumentKind.CREDIT_NOTE, at=at)
    at = _time_under_counter_lock(at=at, year=year)
    issue_date = timezone.localtime(at).date()
    copied = {
        field.name: getattr(invoice, field.name)
        for field in BillingDocument._meta.concrete_fields
        if field.name
        not in {"id", "kind", "number", "year", "sequence", "credited_invoice", "issued_at"}
        and not field.name.startswith("seller_")
        and field.name not in {"issue_date", "due_date"}
    }
    credit_note = CreditNote(
        **copied,
        **seller_identity(),
        kind=DocumentKind.CREDIT_NOTE,
        number=number,
        year=year,
        sequence=sequence,
        credited_invoice=invoice,
        issued_at=at,
        issue_date=issue_date,
        due_date=issue_date,
    )
    credit_note.full_clean(exclude=["report", "partner", "credited_invoice"])
    credit_note.save()
    BillingLine.objects.bulk_create(
        BillingLine(
            document=credit_note,
            **{
                field.name: getattr(line, field.name)
                for field in BillingLine._meta.concrete_fields
                if field.name not in {"id", "document"}
            },
        )
        for line in invoice.lines.all()
    )
    audit_record(
        action="credit_note.issued",
        actor=getattr(report, "closed_by", None),
        obj=credit_note,
        partner=credit_note.partner_id,
        after={**_audited(credit_note), "credited_invoice": invoice.number},
    )
    # It cancels what is still open on its invoice; the rest is the partner's credit.
    credit_note_settle(credit_note=credit_note, by=getattr(report, "closed_by", None))
    _after_issue(credit_note)
    return credit_note


def _audited(document: BillingDocument) -> dict:
    return {
        "number": document.number,
        "report": document.report.reference,
        "issue_date": document.issue_date,
        "due_date": document.due_date,
        "total_gross": document.total_gross,
        "total_excl_vat": document.total_excl_vat,
        "total_vat": document.total_vat,
        "total_incl_vat": document.total_incl_vat,
    }


def _after_issue(document: BillingDocument) -> None:
    """E-mail the PDF to the partner once the transaction commits."""
    document_id = document.pk

    def enqueue():
        from operations.billing.tasks import send_billing_document_email

        try:
            send_billing_document_email.enqueue(document_id=document_id)
        except Exception:
            # The document is committed: a broken queue must not turn it into an error page.
            logger.exception("Could not queue the e-mail of billing document %s", document_id)

    transaction.on_commit(enqueue, robust=True)


def billing_delete_refusal(operation: Operation) -> str | None:
    """Why an operation cannot be deleted because of its invoices, or None."""
    from django.utils.translation import gettext as _

    if BillingDocument.objects.filter(report_id=operation.pk).exists():
        return _("%(ref)s cannot be deleted: it has an invoice, which is kept for ever.") % {
            "ref": operation.reference
        }
    return None
