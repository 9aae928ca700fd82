"""Races on one partner: exactly one request wins, on SQLite and on PostgreSQL.

Each test starts 8 threads at once (a barrier), each with its own database connection.
The services lock the partner's row (select_for_update on PostgreSQL; BEGIN IMMEDIATE on
SQLite), so the threads run one after the other and the rules hold. The control tests take
the lock out and show that the race is real.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, connections

from accounts.models import Partner
from catalog.tests.factories import BookFactory
from operations import selectors, services
from operations.models import Item, Operation
from operations.selectors import quantity_sum, stock_quantities_for_partner
from operations.tests.factories import delivered_order, lines_of, submit_report

THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def race(target, threads=THREADS, prepare=None):
    """Run target() in `threads` threads started together; return (results, errors)."""
    barrier = threading.Barrier(threads, timeout=30)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            if prepare:
                prepare()
            barrier.wait()
            outcome = target()
            with lock:
                results.append(outcome)
        except Exception as exc:  # collected and asserted on by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a thread hung"
    return results, errors


@pytest.fixture
def book(db):
    return BookFactory(price=Decimal("10.00"))


def test_eight_threads_placing_an_order_leave_exactly_one_open_order(partner, book):
    results, errors = race(
        lambda: services.order_place(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    )
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert Operation.objects.open_orders().filter(partner=partner).count() == 1


def test_eight_threads_reporting_the_last_copy_leave_stock_zero(partner, book):
    delivered_order(partner, (book, 1))
    results, errors = race(
        lambda: services.report_submit(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert stock_quantities_for_partner(partner=partner).get(book.pk, 0) == 0
    assert Operation.objects.reports().count() == 1


def test_eight_admins_delivering_one_order_deliver_it_once(partner, book, admin_user):
    order = services.order_place(partner=partner, lines=lines_of((book, 3)), by=partner.user)
    services.order_approve(order=order, by=admin_user)
    results, errors = race(lambda: services.order_deliver(order=order, by=admin_user))
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert stock_quantities_for_partner(partner=partner)[book.pk] == 3


def test_cancel_racing_approve_ends_in_exactly_one_of_them(partner, book, admin_user):
    order = services.order_place(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    turn = iter(range(THREADS))
    turn_lock = threading.Lock()

    def cancel_or_approve():
        with turn_lock:
            n = next(turn)
        if n % 2:
            return services.order_cancel(order=order, by=partner.user)
        return services.order_approve(order=order, by=admin_user)

    results, errors = race(cancel_or_approve)
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    order.refresh_from_db()
    assert order.status == results[0].status


def test_references_stay_unique_across_partners_under_load(partner, other_partner, book):
    partners = [partner, other_partner]
    turn = iter(range(THREADS))
    turn_lock = threading.Lock()

    def report():
        with turn_lock:
            p = partners[next(turn) % 2]
        return services.report_submit(partner=p, lines=[], by=p.user)

    results, errors = race(report)
    assert errors == []
    references = [r.reference for r in results]
    assert len(set(references)) == THREADS


# -- control: without the lock, the race is real -------------------------------------------


def _unlocked_partner(*, partner_id):
    return Partner.objects.select_related("user").get(pk=partner_id)


def test_control_without_the_lock_reports_oversell_or_collide(monkeypatch, partner, book):
    """Take the partner lock out and hold every thread after its stock check.

    PostgreSQL: every thread sees the last copy, all write, and stock goes negative.
    SQLite: without BEGIN IMMEDIATE, writers that read first fail with "database is
    locked" instead of queueing: the requests would error out.
    """
    delivered_order(partner, (book, 1))
    monkeypatch.setattr(services, "partner_lock", _unlocked_partner)
    checked = threading.Barrier(THREADS, timeout=10)
    real_stock = selectors.stock_quantities_for_partner

    def stock_then_wait(*, partner):
        held = real_stock(partner=partner)
        checked.wait()  # every thread has checked before any writes
        return held

    monkeypatch.setattr(selectors, "stock_quantities_for_partner", stock_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(
        lambda: services.report_submit(partner=partner, lines=lines_of((book, 1)), by=partner.user),
        prepare=deferred_transactions,
    )
    ledger = quantity_sum(
        Item.objects.filter(operation__partner=partner, operation__counts_in_stock=True, book=book)
    )
    if connection.vendor == "postgresql":
        assert len(results) == THREADS
        assert ledger == 1 - THREADS  # 1 delivered, 8 sold: stock is negative
    else:
        assert ledger >= 0
        assert any(isinstance(e, OperationalError) for e in errors), errors
        assert len(results) < THREADS


def test_control_without_the_lock_two_open_orders_reach_the_database(monkeypatch, partner, book):
    """Without the lock, concurrent orders pass clean() together; on PostgreSQL only the
    partial unique index stops the second open order."""
    monkeypatch.setattr(services, "partner_lock", _unlocked_partner)
    checked = threading.Barrier(THREADS, timeout=10)
    real_state = selectors.ordering_state

    def state_then_wait(**kwargs):
        state = real_state(**kwargs)
        checked.wait()
        return state

    monkeypatch.setattr(selectors, "ordering_state", state_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(
        lambda: services.order_place(partner=partner, lines=lines_of((book, 1)), by=partner.user),
        prepare=deferred_transactions,
    )
    assert len(results) == 1
    assert Operation.objects.open_orders().filter(partner=partner).count() == 1
    # Every loser passed the rule check and failed only at the database.
    assert not any(isinstance(e, ValidationError) for e in errors), errors


def test_a_report_submitted_after_the_race_still_sees_the_right_stock(partner, book):
    delivered_order(partner, (book, 2))
    race(
        lambda: services.report_submit(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    )
    assert stock_quantities_for_partner(partner=partner).get(book.pk, 0) == 0
    with pytest.raises(ValidationError):
        submit_report(partner, (book, 1))
