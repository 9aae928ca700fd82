"""Billing test data, written through the report services like every other operation."""

from decimal import Decimal

from catalog.tests.factories import BookFactory
from operations.billing.models import CreditNote, Invoice
from operations.services import report_void
from operations.tests.factories import delivered_order, submit_report


def invoiced_report(partner, *prices_and_copies, admin=None):
    """Deliver then report the given (price, copies) pairs; return (report, invoice)."""
    pairs = [(BookFactory(price=Decimal(price)), copies) for price, copies in prices_and_copies]
    delivered_order(partner, *[(book, copies) for book, copies in pairs], admin=admin)
    report = submit_report(partner, *pairs)
    return report, Invoice.objects.get(report=report)


def credited_report(partner, admin, *prices_and_copies):
    report, invoice = invoiced_report(partner, *prices_and_copies, admin=admin)
    report = report_void(report=report, by=admin, reason="Wrong figures")
    return report, invoice, CreditNote.objects.get(report=report)


def pay(partner, amount, admin, *, received_on=None, reference="", method="transfer", **kwargs):
    """Record a payment through the service (applied oldest due first unless told)."""
    from django.utils import timezone

    from operations.billing.payment_services import payment_record

    return payment_record(
        partner=partner,
        amount=Decimal(amount),
        received_on=received_on or timezone.localdate(),
        method=method,
        reference=reference,
        by=admin,
        **kwargs,
    )
