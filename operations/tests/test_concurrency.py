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
from django.db import IntegrityError, OperationalError, connection, connections
from django.utils import timezone

from accounts.models import Partner
from catalog.tests.factories import BookFactory
from operations import services
from operations.clock import backdated
from operations.ledger import check_ledger
from operations.models import EventCounter, Item, ItemQuerySet, Operation, OperationQuerySet, Status
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


def _unguarded_take_event(partner, seq):
    EventCounter.objects.update_or_create(partner=partner, defaults={"last_seq": seq})


def test_control_without_the_lock_reports_oversell_or_collide(monkeypatch, partner, book):
    """Take the partner lock out and hold every thread after its stock check.

    PostgreSQL: every thread sees the last copy, all write, and stock goes negative.
    SQLite: without BEGIN IMMEDIATE, writers that read first fail with "database is
    locked" instead of queueing: the requests would error out.
    """
    delivered_order(partner, (book, 1))
    monkeypatch.setattr(services, "partner_lock", _unlocked_partner)
    monkeypatch.setattr(services, "_take_event", _unguarded_take_event)
    checked = threading.Barrier(THREADS, timeout=10)
    real_held_by = ItemQuerySet.held_by

    def stock_then_wait(self, *, partner):
        held = real_held_by(self, partner=partner)
        checked.wait()  # every thread has checked before any writes
        return held

    monkeypatch.setattr(ItemQuerySet, "held_by", stock_then_wait)

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
        # Every thread passed the stock check; only the database's one-number-per-event
        # constraint stopped the oversell, and the losers fail with a database error
        # instead of a refusal in plain words.
        assert len(results) == 1
        assert ledger == 0
        assert len(errors) == THREADS - 1
        assert all(isinstance(e, IntegrityError) for e in errors), errors
    else:
        assert ledger >= 0
        assert any(isinstance(e, OperationalError) for e in errors), errors
        assert len(results) < THREADS


def test_control_without_the_lock_two_open_orders_reach_the_database(monkeypatch, partner, book):
    """Without the lock, concurrent orders pass clean() together; on PostgreSQL only the
    partial unique index stops the second open order."""
    monkeypatch.setattr(services, "partner_lock", _unlocked_partner)
    checked = threading.Barrier(THREADS, timeout=10)
    real_state = OperationQuerySet.ordering_state

    def state_then_wait(self, **kwargs):
        state = real_state(self, **kwargs)
        checked.wait()
        return state

    monkeypatch.setattr(OperationQuerySet, "ordering_state", state_then_wait)

    def deferred_transactions():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.transaction_mode = None

    results, errors = race(
        lambda: services.order_place(partner=partner, lines=lines_of((book, 1)), by=partner.user),
        prepare=deferred_transactions,
    )
    assert len(results) == 1, errors
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


# -- rule 2: a delivery racing a report --------------------------------------------------------


def _delivery_waits_on_a_report(monkeypatch, partner, book, admin_user, *, clock_before_lock):
    """The report takes the partner's lock first and holds it; the delivery arrives meanwhile
    and waits on the lock, then goes through once the report has committed. Returns the
    delivered order and the report.

    `clock_before_lock`: the delivery reads the time before it waits, as a transition that
    read the clock before taking the lock did.
    """
    delivered_order(partner, (book, 3), admin=admin_user)
    submit_report(partner, (book, 1))
    order = services.order_place(partner=partner, lines=lines_of((book, 2)), by=partner.user)
    services.order_approve(order=order, by=admin_user)

    report_holds_lock = threading.Event()
    real_create = services._create_operation

    def create_slowly(**kwargs):
        report_holds_lock.set()
        threading.Event().wait(0.5)  # the window in which the delivery arrives and waits
        return real_create(**kwargs)

    monkeypatch.setattr(services, "_create_operation", create_slowly)
    outcome, errors = {}, []

    def report():
        try:
            outcome["report"] = services.report_submit(partner=partner, lines=[], by=partner.user)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def deliver():
        try:
            assert report_holds_lock.wait(10)
            if clock_before_lock:
                with backdated(timezone.now()):
                    outcome["order"] = services.order_deliver(order=order, by=admin_user)
            else:
                outcome["order"] = services.order_deliver(order=order, by=admin_user)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report), threading.Thread(target=deliver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return Operation.objects.get(pk=order.pk), Operation.objects.get(pk=outcome["report"].pk)


def test_a_delivery_that_waited_on_a_report_still_needs_a_report_after_it(
    monkeypatch, partner, book, admin_user
):
    order, report = _delivery_waits_on_a_report(
        monkeypatch, partner, book, admin_user, clock_before_lock=False
    )
    assert order.status == Status.DELIVERED
    # The report committed first: it is before the delivery in the partner's event order.
    assert report.counted_seq < order.counted_seq
    assert services.Operation.objects.ordering_state(partner=partner).code == "awaiting_report"
    with pytest.raises(ValidationError, match="Report your sales"):
        services.order_place(partner=partner, lines=lines_of((book, 1)), by=partner.user)
    # Dates follow the same order: the delivery read the clock once it held the lock.
    assert order.delivered_at > report.created_at
    assert check_ledger() == []


def test_control_timestamps_read_before_the_lock_would_open_ordering(
    monkeypatch, partner, book, admin_user
):
    """Ordered by clocks, the same race breaks rule 2: the delivery's time, read before it
    waited, is older than the report that committed before it."""
    order, report = _delivery_waits_on_a_report(
        monkeypatch, partner, book, admin_user, clock_before_lock=True
    )
    assert report.created_at > order.delivered_at  # by the clocks, reported after delivery
    by_clocks_reported = (
        Operation.objects.reports()
        .filter(partner=partner, status=Status.RECORDED, created_at__gt=order.delivered_at)
        .exists()
    )
    assert by_clocks_reported  # a clock-ordered rule 2 would let the partner order again
    # The event numbers, taken under the lock, keep the real order: ordering stays closed.
    assert report.counted_seq < order.counted_seq
    assert services.Operation.objects.ordering_state(partner=partner).code == "awaiting_report"
