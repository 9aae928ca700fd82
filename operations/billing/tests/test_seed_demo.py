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
