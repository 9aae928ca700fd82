"""Admins editing one partner at the same moment: each edit is applied and audited in turn,
so each audit row's "before" is the previous row's "after" (SQLite and PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts import services
from accounts.models import AuditEntry, Partner
from operations.tests.test_concurrency import THREADS, race

pytestmark = pytest.mark.django_db(transaction=True)


def history(partner):
    return list(AuditEntry.objects.filter(partner=partner, action="partner.updated").order_by("pk"))


def rate_setter(partner, admin_user):
    """Each thread sets its own commission rate (30, 31, …) from the same stale copy."""
    turn = iter(range(THREADS))
    turn_lock = threading.Lock()

    def update():
        with turn_lock:
            rate = Decimal(30 + next(turn))
        return services.partner_update(partner=partner, by=admin_user, commission_rate=rate)

    return update


def test_eight_admins_changing_the_commission_at_once_leave_a_chained_history(admin_user, partner):
    Partner.objects.filter(pk=partner.pk).update(commission_rate=Decimal("35"))
    results, errors = race(rate_setter(partner, admin_user))
    assert errors == []
    rows = history(partner)
    # The thread that sets 35 changes nothing if it runs first: no row then.
    assert len(rows) in (THREADS - 1, THREADS)
    assert rows[0].before == {"commission_rate": "35.00"}
    for previous, row in zip(rows, rows[1:], strict=False):
        assert Decimal(row.before["commission_rate"]) == Decimal(previous.after["commission_rate"])
    partner.refresh_from_db()
    assert partner.commission_rate == Decimal(rows[-1].after["commission_rate"])


def test_control_without_the_lock_the_history_loses_its_chain(monkeypatch, admin_user, partner):
    """Take the lock out and hold every thread after its read: on PostgreSQL every row says
    "before: 35" (the history lies); on SQLite, writers that read first fail instead."""
    Partner.objects.filter(pk=partner.pk).update(commission_rate=Decimal("35"))
    read = threading.Barrier(THREADS, timeout=10)

    def unlocked_then_wait(*, partner_id):
        current = Partner.objects.select_related("user").get(pk=partner_id)
        read.wait()
        return current

    monkeypatch.setattr(services, "partner_lock", unlocked_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(rate_setter(partner, admin_user), prepare=deferred_transactions)
    rows = history(partner)
    if connection.vendor == "postgresql":
        befores = [r.before.get("commission_rate") for r in rows]
        assert befores.count("35.00") > 1
    else:
        assert any(isinstance(e, OperationalError) for e in errors), errors
