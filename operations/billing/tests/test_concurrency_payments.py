"""Payments under concurrent requests, on SQLite and on PostgreSQL.

The payment services take the partner's lock (select_for_update on PostgreSQL, BEGIN
IMMEDIATE on SQLite), as the report services do: the same payment recorded by eight admins
at once is stored once, and a payment racing a credit note on the same invoice keeps
balance = open invoices − credit. The control test takes the lock out.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.utils import timezone

from accounts.models import Partner
from operations import services
from operations.billing import payment_services
from operations.billing.account import account_summary
from operations.billing.models import Invoice, InvoiceStatus
from operations.billing.payments import Payment
from operations.billing.tests.factories import invoiced_report
from operations.ledger import check_ledger
from operations.tests.test_concurrency import THREADS, race

pytestmark = pytest.mark.django_db(transaction=True)


def record(partner, admin, amount="6.50", reference="VIR 2026-001"):
    return payment_services.payment_record(
        partner=partner,
        amount=Decimal(amount),
        received_on=timezone.localdate(),
        method="transfer",
        reference=reference,
        by=admin,
    )


def test_eight_admins_recording_the_same_payment_store_it_once(partner, admin_user):
    invoiced_report(partner, ("10.00", 1), admin=admin_user)
    results, errors = race(lambda: record(partner, admin_user))
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert all("already recorded" in " ".join(e.messages) for e in errors)
    assert Payment.objects.count() == 1
    assert check_ledger() == []


def test_a_payment_racing_a_credit_note_on_the_same_invoice_keeps_the_account_whole(
    partner, admin_user
):
    report, invoice = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    turns = iter(["pay", "void"] * (THREADS // 2))
    turn_lock = threading.Lock()

    def act():
        with turn_lock:
            turn = next(turns)
        if turn == "pay":
            with turn_lock:
                reference = f"VIR {next(counter)}"
            return record(partner, admin_user, reference=reference)
        return services.report_void(report=report, by=admin_user, reason="Wrong figures")

    counter = iter(range(THREADS))
    results, errors = race(act)
    # One void wins; the others find the report voided already.
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert len(errors) == THREADS // 2 - 1
    invoice = Invoice.objects.with_allocated().select_related("credit_note").get(pk=invoice.pk)
    assert invoice.status() == InvoiceStatus.CREDITED
    summary = account_summary(partner=partner)
    assert summary.balance == summary.open_total - summary.credit
    assert summary.credit == Decimal("6.50") * (THREADS // 2)  # every payment became credit
    assert check_ledger() == []


def _unlocked_partner(*, partner_id):
    return Partner.objects.select_related("user").get(pk=partner_id)


def test_control_without_the_lock_every_request_passes_the_duplicate_check(
    monkeypatch, partner, admin_user
):
    """Take the partner lock out and hold every thread after its duplicate check: all pass
    it. PostgreSQL: only the partial unique index keeps the payment single. SQLite (deferred
    transactions): writers that read first fail with "database is locked"."""
    monkeypatch.setattr(payment_services, "partner_lock", _unlocked_partner)
    checked = threading.Barrier(THREADS, timeout=10)
    real_check = payment_services._already_recorded
    passed = []

    def check_then_wait(payment):
        found = real_check(payment)
        passed.append(not found)
        checked.wait()  # every thread has checked before any writes
        return found

    monkeypatch.setattr(payment_services, "_already_recorded", check_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(lambda: record(partner, admin_user), prepare=deferred_transactions)
    assert passed == [True] * THREADS  # the check alone would have let all eight in
    assert Payment.objects.count() == 1
    if connection.vendor == "postgresql":
        assert len(results) == 1
        # Refused by the database's unique index, still in plain words.
        assert all("already recorded" in " ".join(e.messages) for e in errors), errors
    else:
        assert any(isinstance(e, OperationalError) for e in errors), errors
