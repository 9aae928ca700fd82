"""Property: whatever partners and admins try, in any order, the ledger's stock equals a
plain model of the rules, never goes negative, and `ledger_check` finds nothing. Actions on
an order or report that is no longer open are tried too: they are refused and change
nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory, PartnerFactory
from catalog.tests.factories import BookFactory
from operations import services
from operations.ledger import check_ledger
from operations.models import EventCounter, Item, Operation
from operations.selectors import stock_quantities_for_partner

BOOKS = 3

actions = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(0, BOOKS - 1), st.integers(-2, 12)),
        st.tuples(st.just("approve"), st.just(0), st.just(0)),
        st.tuples(st.just("deliver"), st.just(0), st.just(0)),
        st.tuples(st.just("cancel"), st.just(0), st.just(0)),
        st.tuples(st.just("reject"), st.just(0), st.just(0)),
        st.tuples(st.just("report"), st.integers(0, BOOKS - 1), st.integers(0, 12)),
        st.tuples(st.just("void"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions)
def test_stock_follows_the_rules_for_any_sequence(steps):
    try:
        with transaction.atomic():
            _run(steps)
            raise _Rollback
    except _Rollback:
        pass


def _snapshot(partner):
    """Everything a refused action must leave as it was."""
    return (
        list(
            Operation.objects.filter(partner=partner)
            .order_by("pk")
            .values_list("pk", "status", "counts_in_stock", "counted_seq", "uncounted_seq")
        ),
        Item.objects.filter(operation__partner=partner).count(),
        EventCounter.objects.filter(partner=partner).values_list("last_seq", flat=True).first(),
    )


def _run(steps):
    admin = AdminUserFactory()
    partner = PartnerFactory()
    books = [BookFactory(price=Decimal("10.00")) for _ in range(BOOKS)]
    expected = dict.fromkeys(range(BOOKS), 0)
    open_order = None  # [operation, book index, copies, approved?]
    last_order = None  # the latest order, whatever its status: acted on when none is open
    reports = []  # recorded reports: (operation, book index, copies, tick)
    last_voided = None
    last_delivery_tick = None
    for tick, (action, b, q) in enumerate(steps):
        reported_since_delivery = last_delivery_tick is None or any(
            t > last_delivery_tick for *_r, t in reports
        )
        allowed = {
            "order": open_order is None and reported_since_delivery and 1 <= q <= 9999,
            "approve": open_order is not None and not open_order[3],
            "deliver": open_order is not None and open_order[3],
            "cancel": open_order is not None and not open_order[3],
            "reject": open_order is not None,
            "report": q <= expected[b],
            "void": bool(reports),
        }[action]
        target = open_order[0] if open_order else last_order
        if action in ("approve", "deliver", "cancel", "reject") and target is None:
            continue  # nothing ordered yet: there is nothing to name
        if action == "void" and not reports and last_voided is None:
            continue
        before = _snapshot(partner)
        try:
            if action == "order":
                order = services.order_place(
                    partner=partner, lines=[services.Line(books[b].pk, q)], by=partner.user
                )
                open_order = [order, b, q, False]
                last_order = order
            elif action == "approve":
                services.order_approve(order=target, by=admin)
                open_order[3] = True
            elif action == "deliver":
                services.order_deliver(order=target, by=admin)
                expected[open_order[1]] += open_order[2]
                open_order, last_delivery_tick = None, tick
            elif action == "cancel":
                services.order_cancel(order=target, by=partner.user)
                open_order = None
            elif action == "reject":
                services.order_reject(order=target, by=admin, reason="no")
                open_order = None
            elif action == "report":
                lines = [services.Line(books[b].pk, q)] if q else []
                report = services.report_submit(partner=partner, lines=lines, by=partner.user)
                expected[b] -= q
                reports.append((report, b, q, tick))
            elif action == "void":
                report = reports[-1][0] if reports else last_voided
                services.report_void(report=report, by=admin, reason="typo")
                _report, rb, rq, _t = reports.pop()
                expected[rb] += rq
                last_voided = report
        except ValidationError:
            assert not allowed, (action, b, q)
            assert _snapshot(partner) == before, (action, "a refused action changed the ledger")
        else:
            assert allowed, (action, b, q)
        held = stock_quantities_for_partner(partner=partner)
        for i, book in enumerate(books):
            assert held.get(book.pk, 0) == expected[i] >= 0
        assert check_ledger() == []
