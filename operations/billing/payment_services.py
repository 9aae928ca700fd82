"""Record and cancel payments; apply payments and credit to invoices (DOMAIN rule 11).

The recipe (STYLE.md): one transaction; the partner's lock first, the clock read after it;
re-read what is open under the lock, run full_clean(), write, audit. The invoice and credit
note services call `credit_apply_to_invoice` and `credit_note_settle` inside their own
transaction, under the same lock.

Arithmetic lives in two plain functions, `split_oldest_first` and `split_explicit`, so that
the rules of applying money read (and are tested) apart from the rows.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.services import audit_record, partner_lock
from operations import clock
from operations.billing.models import BillingDocument, CreditNote, Invoice
from operations.billing.payments import HALF_CENT, Allocation, Payment

CENT = Decimal("0.01")


# -- arithmetic ----------------------------------------------------------------------------------


def split_oldest_first(amount: Decimal, open_amounts: Iterable[tuple]) -> list[tuple]:
    """Apply `amount` to (key, open amount) pairs in the order given (oldest due first):
    each is paid in full before the next gets anything. Returns (key, amount applied) for
    each that gets something; what is left over is credit."""
    left = Decimal(amount)
    applied = []
    for key, open_amount in open_amounts:
        if left <= 0:
            break
        part = min(left, Decimal(open_amount))
        if part > 0:
            applied.append((key, part))
            left -= part
    return applied


def split_explicit(requested: Mapping, open_amounts: Mapping, *, available: Decimal) -> list[tuple]:
    """Check an admin's explicit allocation {key: amount} against what each invoice has
    open and what the source has left; returns (key, amount) pairs, zeros dropped."""
    applied = []
    total = Decimal("0.00")
    for key, raw in requested.items():
        try:
            amount = Decimal(raw if raw not in (None, "") else "0")
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError(_("Each amount applied must be a number.")) from None
        if not amount.is_finite() or amount != amount.quantize(CENT):
            raise ValidationError(_("Each amount applied must be a number of euros and cents."))
        if amount < 0:
            raise ValidationError(_("An amount applied cannot be negative."))
        if amount == 0:
            continue
        if key not in open_amounts:
            raise ValidationError(_("One of the invoices is not open for this partner."))
        if amount > open_amounts[key]:
            raise ValidationError(
                _("%(amount)s applied to an invoice that has only %(open)s still to pay.")
                % {"amount": amount, "open": open_amounts[key]}
            )
        applied.append((key, amount))
        total += amount
    if total > available:
        raise ValidationError(
            _("%(total)s applied in all, but only %(available)s is available.")
            % {"total": total, "available": available}
        )
    return applied


# -- reads under the lock --------------------------------------------------------------------


def _open_invoices(partner_id: int) -> list[BillingDocument]:
    """The partner's invoices with something to pay, oldest due first (`open_amount` set)."""
    rows = Invoice.objects.filter(partner_id=partner_id).open()
    return list(rows.order_by("due_date", "issue_date", "sequence", "pk"))


def _credit_sources(partner_id: int) -> list[tuple[object, Decimal]]:
    """(payment or credit note, amount not yet applied), oldest first."""
    payments = (
        Payment.objects.valid()
        .filter(partner_id=partner_id)
        .with_unallocated()
        .filter(unallocated__gt=HALF_CENT)
    )
    notes = CreditNote.objects.filter(partner_id=partner_id).with_unapplied()
    notes = notes.filter(unapplied__gt=HALF_CENT)
    sources = [(p.received_on, 1, p.pk, p, _cents(p.unallocated)) for p in payments] + [
        (n.issue_date, 0, n.pk, n, _cents(n.unapplied)) for n in notes
    ]
    return [(source, amount) for *_order, source, amount in sorted(sources, key=lambda s: s[:3])]


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _write(partner_id: int, sources: list[tuple], targets: list[tuple], at) -> list[Allocation]:
    """Fill each (invoice, amount) target from the sources in order; write the allocations."""
    rows = []
    sources = [[source, amount] for source, amount in sources]
    for invoice, wanted in targets:
        for entry in sources:
            if wanted <= 0:
                break
            source, left = entry
            part = min(left, wanted)
            if part <= 0:
                continue
            rows.append(
                Allocation(
                    partner_id=partner_id,
                    invoice=invoice,
                    payment=source if isinstance(source, Payment) else None,
                    credit_note=source if isinstance(source, BillingDocument) else None,
                    amount=part,
                    created_at=at,
                )
            )
            entry[1] -= part
            wanted -= part
    for row in rows:
        row.full_clean(exclude=["partner", "invoice", "payment", "credit_note"])
    return Allocation.objects.bulk_create(rows)


def _audited(allocations: Iterable[Allocation]) -> list[dict]:
    return [
        {
            "invoice": allocation.invoice.number,
            "amount": allocation.amount,
            "source": (
                allocation.credit_note.number
                if allocation.credit_note_id
                else f"payment {allocation.payment_id}"
            ),
        }
        for allocation in allocations
    ]


def _payment_fields(payment: Payment) -> dict:
    return {
        "amount": payment.amount,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
        "note": payment.note,
    }


# -- services ------------------------------------------------------------------------------------


def duplicate_message(payment: Payment) -> str:
    return _(
        "This payment is already recorded: %(amount)s EUR received on %(date)s with reference "
        "“%(reference)s”. Cancel that one first, or give this one its own reference."
    ) % {
        "amount": payment.amount,
        "date": date_format(payment.received_on, "SHORT_DATE_FORMAT"),
        "reference": payment.reference or _("(none)"),
    }


def _already_recorded(payment: Payment) -> bool:
    """The same payment, not cancelled, exists: read under the partner's lock, so that two
    requests recording it at once see each other."""
    return (
        Payment.objects.valid()
        .filter(
            partner_id=payment.partner_id,
            amount=payment.amount,
            received_on=payment.received_on,
            reference=payment.reference,
        )
        .exists()
    )


@transaction.atomic
def payment_record(
    *,
    partner: Partner,
    amount: Decimal,
    received_on: date,
    method: str,
    reference: str = "",
    by: User,
    note: str = "",
    allocate_to: Mapping[int, Decimal] | None = None,
) -> Payment:
    """Record money received from `partner`, and apply it: to the invoices and amounts of
    `allocate_to` ({invoice id: amount}) when given, else to the open invoices oldest due
    first. What is not applied is the partner's credit. The same payment (partner, amount,
    date, reference, not cancelled) is refused."""
    partner = partner_lock(partner_id=partner.pk)
    at = clock.now()
    payment = Payment(
        partner=partner,
        amount=amount,
        received_on=received_on,
        method=method,
        reference=(reference or "").strip(),
        note=(note or "").strip(),
        recorded_by=by,
        recorded_at=at,
    )
    payment.full_clean(exclude=["partner", "recorded_by"], validate_constraints=False)
    if _already_recorded(payment):
        raise ValidationError(duplicate_message(payment))
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        # Only reached when the lock is bypassed: the partial unique index still holds.
        raise ValidationError(duplicate_message(payment)) from None
    invoices = _open_invoices(partner.pk)
    by_pk = {invoice.pk: invoice for invoice in invoices}
    if allocate_to:
        split = split_explicit(
            {int(key): value for key, value in allocate_to.items()},
            {invoice.pk: _cents(invoice.open_amount) for invoice in invoices},
            available=payment.amount,
        )
    else:
        split = split_oldest_first(
            payment.amount, [(invoice.pk, _cents(invoice.open_amount)) for invoice in invoices]
        )
    allocations = _write(
        partner.pk, [(payment, payment.amount)], [(by_pk[pk], part) for pk, part in split], at
    )
    audit_record(
        action="payment.recorded",
        actor=by,
        obj=payment,
        partner=partner,
        after={**_payment_fields(payment), "allocations": _audited(allocations)},
    )
    return payment


@transaction.atomic
def payment_cancel(*, payment: Payment, reason: str, by: User) -> Payment:
    """Cancel a payment with a reason: its allocations are removed (listed in the audit row),
    so the invoices it paid are open again. The row stays, marked cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payment is cancelled.")})
    partner = partner_lock(partner_id=payment.partner_id)
    at = clock.now()
    current = Payment.objects.get(pk=payment.pk)
    if current.is_cancelled:
        raise ValidationError(_("This payment is already cancelled."))
    allocations = list(current.allocations.select_related("invoice", "credit_note"))
    Allocation.objects.filter(payment=current).delete()
    changed = Payment.objects.filter(pk=current.pk, cancelled_at__isnull=True).update(
        cancelled_at=at, cancelled_by=by, cancel_reason=reason
    )
    if changed != 1:
        raise ValidationError(_("This payment was changed meanwhile; reload and try again."))
    # An invoice that this payment paid and that a credit note cancels: the credit note's
    # unused credit now covers it again, so a voided sale is never owed.
    resettled = []
    for invoice_id in {allocation.invoice_id for allocation in allocations}:
        note = CreditNote.objects.filter(credited_invoice_id=invoice_id).first()
        if note is not None:
            resettled += _settle(note, at=at)
    current.refresh_from_db()
    audit_record(
        action="payment.cancelled",
        actor=by,
        obj=current,
        partner=partner,
        before={"allocations": _audited(allocations)},
        after={"cancelled_at": at, "credit_reapplied": _audited(resettled)},
        reason=reason,
    )
    return current


@transaction.atomic
def payment_allocate(
    *, partner: Partner, by: User, allocate_to: Mapping[int, Decimal] | None = None
) -> list[Allocation]:
    """Apply the partner's unused credit (payments, then credit notes, oldest first) to its
    open invoices: the amounts of `allocate_to` ({invoice id: amount}), or oldest due first."""
    partner = partner_lock(partner_id=partner.pk)
    at = clock.now()
    sources = _credit_sources(partner.pk)
    available = sum((amount for _source, amount in sources), Decimal("0.00"))
    if available <= 0:
        raise ValidationError(_("This partner has no credit to apply."))
    invoices = _open_invoices(partner.pk)
    if not invoices:
        raise ValidationError(_("This partner has no open invoice."))
    by_pk = {invoice.pk: invoice for invoice in invoices}
    if allocate_to:
        split = split_explicit(
            {int(key): value for key, value in allocate_to.items()},
            {invoice.pk: _cents(invoice.open_amount) for invoice in invoices},
            available=available,
        )
    else:
        split = split_oldest_first(
            available, [(invoice.pk, _cents(invoice.open_amount)) for invoice in invoices]
        )
    if not split:
        raise ValidationError(_("Nothing to apply."))
    allocations = _write(partner.pk, sources, [(by_pk[pk], part) for pk, part in split], at)
    audit_record(
        action="credit.applied",
        actor=by,
        obj=partner,
        after={"allocations": _audited(allocations)},
    )
    return allocations


def credit_apply_to_invoice(*, invoice: BillingDocument, by: User | None) -> list[Allocation]:
    """Pay a new invoice from the partner's credit, as far as it goes. The caller
    (`invoice_issue_for_report`) holds the partner's lock in its transaction."""
    assert transaction.get_connection().in_atomic_block, "call inside the invoice transaction"
    sources = _credit_sources(invoice.partner_id)
    available = sum((amount for _source, amount in sources), Decimal("0.00"))
    if available <= 0:
        return []
    at = clock.now()
    allocations = _write(
        invoice.partner_id, sources, [(invoice, min(available, invoice.total_incl_vat))], at
    )
    audit_record(
        action="invoice.credit_applied",
        actor=by,
        obj=invoice,
        partner=invoice.partner_id,
        after={"allocations": _audited(allocations)},
    )
    return allocations


def credit_note_settle(*, credit_note: BillingDocument, by: User | None) -> list[Allocation]:
    """A new credit note first cancels what is still open on its invoice; the rest is the
    partner's credit. The caller (`credit_note_issue_for_void`) holds the partner's lock."""
    assert transaction.get_connection().in_atomic_block, "call inside the void transaction"
    allocations = _settle(credit_note, at=clock.now())
    if allocations:
        audit_record(
            action="credit_note.applied",
            actor=by,
            obj=credit_note,
            partner=credit_note.partner_id,
            after={"allocations": _audited(allocations)},
        )
    return allocations


def _settle(credit_note: BillingDocument, *, at) -> list[Allocation]:
    invoice = Invoice.objects.with_allocated().get(pk=credit_note.credited_invoice_id)
    note = CreditNote.objects.with_unapplied().get(pk=credit_note.pk)
    part = min(_cents(invoice.open_amount), _cents(note.unapplied))
    if part <= 0:
        return []
    return _write(credit_note.partner_id, [(note, part)], [(invoice, part)], at)
