import pytest
from django.core.management import call_command

from operations.billing.checks import billing_violations
from operations.billing.models import CreditNote, Invoice
from operations.models import Operation, Status

pytestmark = pytest.mark.django_db


def test_the_demo_invoices_every_report_that_sold_something_and_credits_one(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    sold = Operation.objects.reports().filter(items__isnull=False).distinct()
    assert Invoice.objects.count() == sold.count() > 10
    assert CreditNote.objects.count() >= 1
    assert {c.report.status for c in CreditNote.objects.all()} == {Status.VOIDED}
    assert billing_violations() == []
    call_command("seed_demo", "--reset", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert billing_violations() == []


def test_the_demo_shows_paid_partly_paid_and_overdue_invoices_and_a_credit(settings):
    from accounts.models import Partner
    from operations.billing.account import account_summary, receivables
    from operations.billing.checks import payment_violations
    from operations.billing.models import InvoiceStatus

    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert payment_violations() == []
    partners = {p.user.email: p for p in Partner.objects.select_related("user")}
    assert Invoice.objects.with_status(InvoiceStatus.PAID).exists()
    p2 = account_summary(partner=partners["partner2@example.com"])
    assert p2.overdue_invoices and p2.overdue_total > 0
    assert receivables().partners[0].partner == partners["partner2@example.com"]
    p4 = partners["partner4@example.com"]
    partly = Invoice.objects.filter(partner=p4).with_allocated().order_by("-issue_date").first()
    assert 0 < partly.paid_amount() < partly.total_incl_vat
    p1 = account_summary(partner=partners["partner1@example.com"])
    assert p1.credit == 25 and p1.balance == -25
