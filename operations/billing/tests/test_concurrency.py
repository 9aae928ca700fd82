"""Invoice numbers under concurrent reports, on SQLite and on PostgreSQL.

Numbering is global across partners, so the partner lock does not serialise it: the UPDATE of
the counter row does (held until commit). 8 partners report at the same moment; the numbers
come out gapless and unique. The control test replaces the UPDATE with a read then a write
and shows the race it prevents.
"""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.tests.factories import PartnerFactory
from catalog.tests.factories import BookFactory
from operations import services
from operations.billing import services as billing
from operations.billing.models import DocumentKind, Invoice
from operations.models import ReferenceCounter
from operations.tests.factories import delivered_order, lines_of
from operations.tests.test_concurrency import THREADS, race

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_partners_reporting_at_once_get_gapless_unique_invoice_numbers(admin_user):
    book = BookFactory(price=Decimal("10.00"))
    partners = [PartnerFactory() for _ in range(THREADS)]
    for partner in partners:
        delivered_order(partner, (book, 2), admin=admin_user)
    turn = iter(partners)
    turn_lock = threading.Lock()

    def report():
        with turn_lock:
            partner = next(turn)
        return services.report_submit(partner=partner, lines=lines_of((book, 1)), by=partner.user)

    results, errors = race(report)
    assert errors == []
    invoices = Invoice.objects.filter(report__in=results)
    assert sorted(invoices.values_list("sequence", flat=True)) == list(range(1, THREADS + 1))
    assert len(set(invoices.values_list("number", flat=True))) == THREADS
    assert {invoice.partner_id for invoice in invoices} == {p.pk for p in partners}
    # Chronological: in number order, issue times never go back.
    times = list(invoices.order_by("sequence").values_list("issued_at", flat=True))
    assert times == sorted(times)


def test_eight_transactions_numbering_at_once_get_one_number_each(db):
    """The counter row alone serialises numbering, without any partner or report lock."""

    def number():
        with transaction.atomic():
            return billing.next_number(kind=DocumentKind.INVOICE, at=timezone.now())[1]

    results, errors = race(number)
    assert errors == []
    assert sorted(results) == list(range(1, THREADS + 1))


def test_control_numbering_by_reading_then_writing_hands_out_duplicates(db):
    """Without the UPDATE that locks the counter row, every transaction reads the same last
    number. PostgreSQL: duplicates. SQLite (deferred transactions): writers that read first
    fail with "database is locked"."""
    year = timezone.localdate().year
    ReferenceCounter.objects.create(prefix="FAC", year=year, last_value=0)
    read = threading.Barrier(THREADS, timeout=10)

    def unlocked_number():
        with transaction.atomic():
            counter = ReferenceCounter.objects.get(prefix="FAC", year=year)
            value = counter.last_value + 1
            read.wait()  # every transaction has read before any writes
            ReferenceCounter.objects.filter(pk=counter.pk).update(last_value=value)
            return value

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(unlocked_number, prepare=deferred_transactions)
    if connection.vendor == "postgresql":
        assert errors == []
        assert results == [1] * THREADS  # eight invoices would be FAC-…-00001
    else:
        assert any(isinstance(e, OperationalError) for e in errors), errors
        assert len(set(results)) == len(results) < THREADS
