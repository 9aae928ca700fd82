"""Payments: applied oldest due first or as told, recorded once, cancelled with a reason,
never deleted; credit from overpayments and credit notes pays the next invoices."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEntry, purge_allowed
from operations.billing.account import (
    account_lines,
    account_summary,
    open_amount,
    partner_balance,
    partner_credit,
    receivables,
)
from operations.billing.checks import payment_violations
from operations.billing.models import Invoice, InvoiceStatus
from operations.billing.payment_services import payment_allocate, payment_cancel, payment_record
from operations.billing.payments import Allocation, Payment, PaymentDeleteError
from operations.billing.tests.factories import credited_report, invoiced_report, pay
from operations.services import report_void
from operations.tests.factories import submit_report

pytestmark = pytest.mark.django_db


def fresh(invoice):
    return Invoice.objects.with_allocated().select_related("credit_note").get(pk=invoice.pk)


def assert_account_whole(partner):
    summary = account_summary(partner=partner)
    assert summary.balance == summary.open_total - summary.credit
    assert payment_violations() == []


def test_a_payment_pays_the_oldest_due_invoice_first_and_the_rest_is_credit(partner, admin_user):
    _r, first = invoiced_report(partner, ("20.00", 1), admin=admin_user)  # 13.00
    _r, second = invoiced_report(partner, ("10.00", 1), admin=admin_user)  # 6.50
    pay(partner, "15.00", admin_user)
    assert open_amount(fresh(first)) == Decimal("0.00")
    assert fresh(first).status() == InvoiceStatus.PAID
    assert open_amount(fresh(second)) == Decimal("4.50")
    assert fresh(second).status() == InvoiceStatus.PARTLY_PAID
    assert partner_credit(partner) == Decimal("0.00")
    pay(partner, "10.00", admin_user, reference="second")
    assert fresh(second).status() == InvoiceStatus.PAID
    assert partner_credit(partner) == Decimal("5.50")
    assert partner_balance(partner) == Decimal("-5.50")
    assert_account_whole(partner)


def test_an_admin_applies_a_payment_to_the_invoices_and_amounts_it_chooses(partner, admin_user):
    _r, first = invoiced_report(partner, ("20.00", 1), admin=admin_user)
    _r, second = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    pay(partner, "8.00", admin_user, allocate_to={second.pk: Decimal("6.50")})
    assert fresh(first).status() == InvoiceStatus.OPEN
    assert fresh(second).status() == InvoiceStatus.PAID
    assert partner_credit(partner) == Decimal("1.50")
    assert_account_whole(partner)


def test_an_explicit_allocation_beyond_an_invoice_is_refused_and_nothing_is_written(
    partner, admin_user
):
    _r, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    with pytest.raises(ValidationError, match="still to pay"):
        pay(partner, "20.00", admin_user, allocate_to={invoice.pk: Decimal("7.00")})
    assert not Payment.objects.exists()


def test_the_same_payment_twice_is_refused_with_a_clear_message(partner, admin_user):
    invoiced_report(partner, ("10.00", 1), admin=admin_user)
    first = pay(partner, "6.50", admin_user, reference="VIR 123")
    with pytest.raises(ValidationError, match="already recorded"):
        pay(partner, "6.50", admin_user, reference="VIR 123")
    pay(partner, "6.50", admin_user, reference="VIR 124")  # another reference: another payment
    payment_cancel(payment=first, reason="Typed twice", by=admin_user)
    pay(partner, "6.50", admin_user, reference="VIR 123")  # the cancelled one no longer counts
    assert Payment.objects.valid().count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", Decimal("0"), "greater than zero"),
        ("amount", Decimal("-5"), "greater than zero"),
        ("amount", Decimal("1.001"), "decimal places"),
        ("received_on", "tomorrow", "future"),
        ("method", "bitcoin", "not a valid choice"),
    ],
)
def test_a_malformed_payment_is_refused(partner, admin_user, field, value, message):
    values = {
        "amount": Decimal("5.00"),
        "received_on": timezone.localdate(),
        "method": "cheque",
    }
    if value == "tomorrow":
        value = timezone.localdate() + timedelta(days=1)
    values[field] = value
    with pytest.raises(ValidationError, match=message):
        payment_record(partner=partner, by=admin_user, **values)
    assert not Payment.objects.exists()


def test_cancelling_a_payment_reopens_what_it_paid_and_is_audited(partner, admin_user):
    _r, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    payment = pay(partner, "10.00", admin_user, reference="CHQ 9")
    assert fresh(invoice).status() == InvoiceStatus.PAID
    with pytest.raises(ValidationError, match="Say why"):
        payment_cancel(payment=payment, reason="  ", by=admin_user)
    cancelled = payment_cancel(payment=payment, reason="Cheque bounced", by=admin_user)
    assert cancelled.is_cancelled and cancelled.cancel_reason == "Cheque bounced"
    assert cancelled.cancelled_by == admin_user
    assert fresh(invoice).status() == InvoiceStatus.OPEN
    assert not Allocation.objects.filter(payment=payment).exists()
    assert partner_credit(partner) == Decimal("0.00")
    assert partner_balance(partner) == invoice.total_incl_vat
    entry = AuditEntry.objects.get(action="payment.cancelled")
    assert entry.reason == "Cheque bounced"
    assert entry.before["allocations"][0]["amount"] == "6.50"
    with pytest.raises(ValidationError, match="already cancelled"):
        payment_cancel(payment=payment, reason="again", by=admin_user)
    assert_account_whole(partner)


def test_a_payment_is_never_deleted_except_when_purging_a_demo(partner, admin_user):
    payment = pay(partner, "5.00", admin_user)
    with pytest.raises(PaymentDeleteError):
        payment.delete()
    with pytest.raises(PaymentDeleteError):
        Payment.objects.all().delete()
    with purge_allowed():
        Payment.objects.all().delete()
    assert not Payment.objects.exists()


def test_recording_a_payment_is_audited_with_its_allocations(partner, admin_user):
    _r, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    payment = pay(partner, "10.00", admin_user, reference="VIR 1")
    entry = AuditEntry.objects.get(action="payment.recorded")
    assert entry.object_id == payment.pk and entry.partner_id == partner.pk
    assert entry.after["allocations"] == [
        {"invoice": invoice.number, "amount": "6.50", "source": f"payment {payment.pk}"}
    ]


def test_credit_pays_a_new_invoice_at_once(partner, admin_user):
    pay(partner, "10.00", admin_user)  # nothing to pay yet: all credit
    assert partner_credit(partner) == Decimal("10.00")
    _r, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    assert fresh(invoice).status() == InvoiceStatus.PAID
    assert partner_credit(partner) == Decimal("3.50")
    assert AuditEntry.objects.filter(action="invoice.credit_applied").count() == 1
    assert_account_whole(partner)


def test_a_credit_note_on_an_unpaid_invoice_cancels_it(partner, admin_user):
    _r, invoice, credit_note = credited_report(partner, admin_user, ("10.00", 1))
    assert fresh(invoice).status() == InvoiceStatus.CREDITED
    assert open_amount(fresh(invoice)) == Decimal("0.00")
    assert partner_credit(partner) == Decimal("0.00")
    assert partner_balance(partner) == Decimal("0.00")
    assert_account_whole(partner)


def test_a_credit_note_on_a_partly_paid_invoice_leaves_what_was_paid_as_credit(partner, admin_user):
    report, invoice = invoiced_report(partner, ("20.00", 1), admin=admin_user)  # 13.00
    pay(partner, "5.00", admin_user)
    report_void(report=report, by=admin_user, reason="Wrong figures")
    assert fresh(invoice).status() == InvoiceStatus.CREDITED
    assert partner_credit(partner) == Decimal("5.00")
    assert partner_balance(partner) == Decimal("-5.00")
    assert_account_whole(partner)


def test_a_credit_note_on_a_paid_invoice_is_all_credit_and_pays_the_next(partner, admin_user):
    report, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    pay(partner, "6.50", admin_user)
    report_void(report=report, by=admin_user, reason="Wrong figures")
    assert partner_credit(partner) == Decimal("6.50")
    book = report.items.get().book  # back in stock: reported again
    second = Invoice.objects.get(report=submit_report(partner, (book, 1)))
    assert fresh(second).status() == InvoiceStatus.PAID
    assert partner_credit(partner) == Decimal("0.00")
    assert_account_whole(partner)


def test_cancelling_the_payment_of_a_credited_invoice_lets_the_credit_note_cancel_it(
    partner, admin_user
):
    report, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    payment = pay(partner, "6.50", admin_user)
    report_void(report=report, by=admin_user, reason="Wrong figures")
    payment_cancel(payment=payment, reason="Never received", by=admin_user)
    assert fresh(invoice).status() == InvoiceStatus.CREDITED
    assert partner_balance(partner) == Decimal("0.00") == partner_credit(partner)
    assert_account_whole(partner)


def test_unused_credit_is_applied_oldest_first_or_as_told(partner, admin_user):
    _r, first = invoiced_report(partner, ("20.00", 1), admin=admin_user)  # 13.00
    _r, second = invoiced_report(partner, ("10.00", 1), admin=admin_user)  # 6.50
    pay(partner, "10.00", admin_user, allocate_to={second.pk: Decimal("1.00")})
    assert partner_credit(partner) == Decimal("9.00")
    payment_allocate(partner=partner, by=admin_user, allocate_to={second.pk: Decimal("5.50")})
    assert fresh(second).status() == InvoiceStatus.PAID
    payment_allocate(partner=partner, by=admin_user)
    assert open_amount(fresh(first)) == Decimal("9.50")
    with pytest.raises(ValidationError, match="no credit"):
        payment_allocate(partner=partner, by=admin_user)
    assert_account_whole(partner)


def test_overdue_means_past_due_and_not_paid(partner, admin_user):
    _r, paid = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    _r, unpaid = invoiced_report(partner, ("20.00", 1), admin=admin_user)
    _r, partly = invoiced_report(partner, ("30.00", 1), admin=admin_user)
    pay(partner, "6.50", admin_user, allocate_to={paid.pk: Decimal("6.50")})
    pay(partner, "1.00", admin_user, allocate_to={partly.pk: Decimal("1.00")})
    later = unpaid.due_date + timedelta(days=1)
    overdue = Invoice.objects.with_status(InvoiceStatus.OVERDUE, today=later)
    assert set(overdue) == {unpaid, partly}
    assert set(Invoice.objects.with_status(InvoiceStatus.OVERDUE)) == set()
    assert set(Invoice.objects.with_status(InvoiceStatus.PAID)) == {paid}
    assert set(Invoice.objects.with_status(InvoiceStatus.PARTLY_PAID)) == {partly}
    assert set(Invoice.objects.with_status(InvoiceStatus.OPEN)) == {unpaid}
    assert fresh(partly).status(today=later) == InvoiceStatus.OVERDUE


def test_receivables_bucket_by_days_overdue_most_overdue_partner_first(
    partner, other_partner, admin_user
):
    _r, alice_invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)  # 6.50
    invoiced_report(other_partner, ("20.00", 1), admin=admin_user)  # 13.00
    due = alice_invoice.due_date
    assert receivables(today=due).buckets["not_due"] == Decimal("19.50")
    late = receivables(today=due + timedelta(days=45))
    assert late.total == Decimal("19.50") == late.overdue
    assert late.buckets["days_31_60"] == Decimal("19.50")
    assert [row.partner for row in late.partners] == [other_partner, partner]
    pay(other_partner, "13.00", admin_user)
    assert [row.partner for row in receivables(today=due + timedelta(days=90)).partners] == [
        partner
    ]
    assert receivables(today=due + timedelta(days=90)).buckets["days_over_60"] == Decimal("6.50")


def test_the_account_lines_run_a_balance_from_the_opening_to_the_closing(partner, admin_user):
    report, invoice = invoiced_report(partner, ("20.00", 1), admin=admin_user)
    pay(partner, "5.00", admin_user)
    report_void(report=report, by=admin_user, reason="Wrong figures")
    account = account_lines(partner)
    assert [line.kind for line in account.lines] == ["invoice", "credit_note", "payment"]
    assert [line.balance for line in account.lines] == [
        Decimal("13.00"),
        Decimal("0.00"),
        Decimal("-5.00"),
    ]
    assert account.opening == Decimal("0.00")
    assert account.closing == partner_balance(partner) == Decimal("-5.00")
    tomorrow = timezone.localdate() + timedelta(days=1)
    later = account_lines(partner, date_from=tomorrow)
    assert later.opening == later.closing == Decimal("-5.00") and later.lines == []


def test_ledger_check_names_allocations_beyond_their_rows_and_from_cancelled_payments(
    partner, admin_user
):
    from operations.billing.tests.test_checks import raw_update
    from operations.ledger import check_ledger

    _r, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    payment = pay(partner, "6.50", admin_user)
    allocation = Allocation.objects.get(payment=payment)
    assert check_ledger() == []
    raw_update(Allocation, allocation.pk, amount=Decimal("9.00"))
    problems = payment_violations()
    assert any(f"Payment {payment.pk} of 6.50 is applied for 9.00" in p for p in problems)
    paid_beyond = f"Invoice {invoice.pk} ({invoice.number}) of 6.50 is paid 9.00"
    assert any(paid_beyond in p for p in problems)
    raw_update(Allocation, allocation.pk, amount=Decimal("6.50"))
    raw_update(Payment, payment.pk, cancelled_at=timezone.now(), cancel_reason="x")
    problems = payment_violations()
    assert any(f"applies cancelled payment {payment.pk}" in p for p in problems)
    # The cancelled payment counts for nothing, but its allocation still pays the invoice.
    assert any(f"Partner {partner.pk}: balance 6.50" in p for p in problems)
    assert any("[payments]" in str(v) for v in check_ledger())
