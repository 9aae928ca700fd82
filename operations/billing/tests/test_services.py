from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.billing.models import BillingDocument, CreditNote, Invoice
from operations.billing.tests.factories import credited_report, invoiced_report
from operations.clock import backdated
from operations.models import ReferenceCounter
from operations.services import report_submit, report_void
from operations.tests.factories import delivered_order, lines_of, submit_report

pytestmark = pytest.mark.django_db


def test_a_report_that_sold_something_is_invoiced_in_the_same_call(partner, settings):
    settings.PAYMENT_TERMS_DAYS = 45
    report, invoice = invoiced_report(partner, ("12.50", 2))
    year = timezone.localdate().year
    assert invoice.number == f"FAC-{year}-00001"
    assert invoice.partner == partner
    assert invoice.issue_date == timezone.localtime(report.created_at).date()
    assert invoice.due_date == invoice.issue_date + timedelta(days=45)
    assert invoice.total_gross == Decimal("25.00")
    assert invoice.total_incl_vat == Decimal("16.25")  # 35 % commission
    assert invoice.buyer_name == partner.store_name
    assert invoice.seller_siren == settings.SELLER_SIREN
    assert invoice.language == partner.user.language


def test_a_nothing_sold_report_has_no_invoice(partner):
    report = submit_report(partner)
    assert not BillingDocument.objects.filter(report=report).exists()


def test_invoice_numbers_follow_each_other_per_year(partner, other_partner):
    numbers = []
    for p in (partner, other_partner, partner):
        _report, invoice = invoiced_report(p, ("10.00", 1))
        numbers.append(invoice.sequence)
        submit_report(p)  # nothing sold: no number used
    assert numbers == [1, 2, 3]
    assert ReferenceCounter.objects.get(prefix="FAC").last_value == 3


def test_a_report_dated_in_another_year_is_numbered_in_that_year(partner):
    book = BookFactory(price=Decimal("10.00"))
    delivered_order(partner, (book, 2))
    at = timezone.make_aware(timezone.datetime(2025, 12, 31, 23, 30))
    with backdated(at):
        report = report_submit(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    invoice = Invoice.objects.get(report=report)
    assert invoice.number == "FAC-2025-00001"
    assert invoice.issue_date == date(2025, 12, 31)


def test_a_refused_report_uses_no_invoice_number(partner):
    book = BookFactory(price=Decimal("10.00"))
    delivered_order(partner, (book, 1))
    with pytest.raises(ValidationError):
        submit_report(partner, (book, 2))  # more than held
    invoice = Invoice.objects.get(report=submit_report(partner, (book, 1)))
    assert invoice.sequence == 1


def test_the_invoice_keeps_the_buyer_and_prices_of_its_day(partner):
    report, invoice = invoiced_report(partner, ("10.00", 1))
    item = report.items.get()
    item.book.price = Decimal("99.00")
    item.book.title = "Renamed"
    item.book.save()
    partner.store_name = "New name"
    partner.address = "Somewhere else"
    partner.commission_rate = Decimal("50")
    partner.save()
    invoice = Invoice.objects.get(pk=invoice.pk)
    line = invoice.lines.get()
    assert (invoice.buyer_name, invoice.commission_rate) == ("Alice Livres", Decimal("35.00"))
    assert invoice.buyer_address != "Somewhere else"
    assert (line.unit_price, line.title) != (Decimal("99.00"), "Renamed")


def test_the_seller_is_frozen_at_issue(partner, settings):
    _report, invoice = invoiced_report(partner, ("10.00", 1))
    settings.SELLER_NAME = "Another publisher"
    assert Invoice.objects.get(pk=invoice.pk).seller_name != "Another publisher"


def test_a_vat_exempt_seller_invoices_without_vat(partner, settings):
    settings.SELLER_VAT_NUMBER = ""
    settings.SELLER_VAT_EXEMPT_MENTION = "TVA non applicable, art. 293 B du CGI"
    _report, invoice = invoiced_report(partner, ("10.00", 3))
    assert invoice.vat_exempt
    assert invoice.total_vat == Decimal("0.00")
    assert invoice.total_excl_vat == invoice.total_incl_vat == Decimal("19.50")


def test_voiding_an_invoiced_report_issues_a_credit_note_and_keeps_the_invoice(partner, admin_user):
    report, invoice, credit_note = credited_report(partner, admin_user, ("10.00", 2))
    year = timezone.localdate().year
    assert credit_note.number == f"AVO-{year}-00001"
    assert credit_note.credited_invoice == invoice
    assert credit_note.issue_date == timezone.localtime(report.closed_at).date()
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert invoice.credit_note == credit_note


def test_voiding_a_nothing_sold_report_issues_no_credit_note(partner, admin_user):
    report = submit_report(partner)
    report_void(report=report, by=admin_user, reason="Duplicate")
    assert not CreditNote.objects.exists()


def test_a_report_cannot_be_voided_twice_nor_credited_twice(partner, admin_user):
    report, _invoice, _credit = credited_report(partner, admin_user, ("10.00", 1))
    with pytest.raises(ValidationError):
        report_void(report=report, by=admin_user, reason="Again")
    assert CreditNote.objects.count() == 1


def test_credit_note_numbers_have_their_own_sequence(partner, other_partner, admin_user):
    for p in (partner, other_partner):
        credited_report(p, admin_user, ("10.00", 1))
    assert sorted(CreditNote.objects.values_list("sequence", flat=True)) == [1, 2]
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2]


def test_issuing_an_invoice_and_a_credit_note_writes_one_audit_row_each(partner, admin_user):
    from accounts.models import AuditEntry

    report, invoice, credit_note = credited_report(partner, admin_user, ("10.00", 2))
    issued = AuditEntry.objects.get(action="invoice.issued")
    assert (issued.actor, issued.partner_id, issued.object_id) == (
        partner.user,
        partner.pk,
        invoice.pk,
    )
    assert issued.after["number"] == invoice.number
    assert issued.after["total_incl_vat"] == str(invoice.total_incl_vat)
    credited = AuditEntry.objects.get(action="credit_note.issued")
    assert (credited.actor, credited.object_id) == (admin_user, credit_note.pk)
    assert credited.after["credited_invoice"] == invoice.number


def test_a_nothing_sold_report_writes_no_billing_audit_row(partner):
    from accounts.models import AuditEntry

    submit_report(partner)
    assert not AuditEntry.objects.filter(action__endswith=".issued").exists()
