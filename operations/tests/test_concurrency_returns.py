"""Races on returns (rule 10): reserved copies are taken once, on SQLite and PostgreSQL.

Same harness as test_concurrency: threads started together, each with its own connection,
the services serialised by the partner's lock; a control test takes the lock out.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection

from catalog.tests.factories import BookFactory
from operations import returns, services
from operations.ledger import check_ledger
from operations.models import Operation, Status, StockBalance, StockBalanceQuerySet
from operations.returns import Receipt
from operations.tests.factories import delivered_order, lines_of, request_return
from operations.tests.test_concurrency import THREADS, _unlocked_partner, race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book(db):
    return BookFactory(price=Decimal("10.00"))


def _alternating(*targets):
    turn = iter(range(THREADS))
    turn_lock = threading.Lock()

    def run():
        with turn_lock:
            n = next(turn)
        return targets[n % len(targets)]()

    return run


def _balance(partner, book):
    return StockBalance.objects.get(partner=partner, book=book)


def test_a_return_and_a_report_racing_for_the_last_copies_never_take_them_twice(partner, book):
    delivered_order(partner, (book, 2))
    results, errors = race(
        _alternating(
            lambda: returns.return_request(
                partner=partner, lines=lines_of((book, 2)), by=partner.user
            ),
            lambda: services.report_submit(
                partner=partner, lines=lines_of((book, 2)), by=partner.user
            ),
        )
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    row = _balance(partner, book)
    if results[0].is_return:
        assert (row.quantity, row.reserved) == (2, 2)
    else:
        assert (row.quantity, row.reserved) == (0, 0)
    assert check_ledger() == []


def test_two_returns_racing_for_the_same_copies_reserve_them_once(partner, book):
    delivered_order(partner, (book, 3))
    results, errors = race(
        lambda: returns.return_request(partner=partner, lines=lines_of((book, 3)), by=partner.user)
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert _balance(partner, book).reserved == 3
    assert Operation.objects.open_returns().count() == 1
    assert check_ledger() == []


def test_receiving_racing_cancelling_ends_in_exactly_one_of_them(partner, book, admin_user):
    delivered_order(partner, (book, 3))
    ret = request_return(partner, (book, 3))

    def ship_and_receive():
        returns.return_ship(ret=ret, by=partner.user)
        return returns.return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 3)])

    results, errors = race(
        _alternating(lambda: returns.return_cancel(ret=ret, by=partner.user), ship_and_receive),
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    ret.refresh_from_db()
    row = _balance(partner, book)
    if ret.status == Status.RECEIVED:
        assert (row.quantity, row.reserved) == (0, 0)
    else:
        assert ret.status == Status.CANCELLED
        assert (row.quantity, row.reserved) == (3, 0)
    assert check_ledger() == []


def test_eight_admins_receiving_one_return_take_the_copies_out_once(partner, book, admin_user):
    delivered_order(partner, (book, 4))
    ret = request_return(partner, (book, 2))
    returns.return_ship(ret=ret, by=partner.user)
    results, errors = race(
        lambda: returns.return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 2)])
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    row = _balance(partner, book)
    assert (row.quantity, row.reserved) == (2, 0)
    assert check_ledger() == []


def test_control_without_the_lock_two_returns_pass_the_check_together(monkeypatch, partner, book):
    """Take the partner lock out and hold every thread after its stock check: every thread
    sees the copies free. PostgreSQL: only the balance's constraint (reserved <= held) stops
    the second reservation, with a database error instead of a refusal in plain words.
    SQLite: without BEGIN IMMEDIATE, writers fail with "database is locked"."""
    delivered_order(partner, (book, 1))
    monkeypatch.setattr(services, "partner_lock", _unlocked_partner)
    monkeypatch.setattr(returns, "partner_lock", _unlocked_partner)
    checked = threading.Barrier(THREADS, timeout=10)
    real_stock_of = StockBalanceQuerySet.stock_of

    def stock_then_wait(self, *, partner):
        stock = real_stock_of(self, partner=partner)
        checked.wait()  # every thread has checked before any writes
        return stock

    monkeypatch.setattr(StockBalanceQuerySet, "stock_of", stock_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(
        lambda: returns.return_request(partner=partner, lines=lines_of((book, 1)), by=partner.user),
        prepare=deferred_transactions,
    )
    # Every loser passed the rule check: none was refused in plain words.
    assert not any(isinstance(e, ValidationError) for e in errors), errors
    if connection.vendor == "postgresql":
        assert len(results) == 1
        assert all(isinstance(e, IntegrityError) for e in errors), errors
    else:
        assert any(isinstance(e, OperationalError) for e in errors), errors
        assert len(results) < THREADS
    assert _balance(partner, book).reserved <= 1
