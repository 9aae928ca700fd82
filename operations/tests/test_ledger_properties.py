"""Property: whatever partners and admins try, in any order, the ledger's stock equals a
plain model of the rules, and never goes negative."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory, PartnerFactory
from catalog.tests.factories import BookFactory
from operations import services
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


def _run(steps):
    admin = AdminUserFactory()
    partner = PartnerFactory()
    books = [BookFactory(price=Decimal("10.00")) for _ in range(BOOKS)]
    expected = dict.fromkeys(range(BOOKS), 0)
    open_order = None  # [operation, book index, copies, approved?]
    reports = []  # recorded reports: (operation, book index, copies, tick)
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
        try:
            if action == "order":
                order = services.order_place(
                    partner=partner, lines=[services.Line(books[b].pk, q)], by=partner.user
                )
                open_order = [order, b, q, False]
            elif action == "approve":
                if open_order is None:
                    continue
                services.order_approve(order=open_order[0], by=admin)
                open_order[3] = True
            elif action == "deliver":
                if open_order is None:
                    continue
                services.order_deliver(order=open_order[0], by=admin)
                expected[open_order[1]] += open_order[2]
                open_order, last_delivery_tick = None, tick
            elif action in ("cancel", "reject"):
                if open_order is None:
                    continue
                if action == "cancel":
                    services.order_cancel(order=open_order[0], by=partner.user)
                else:
                    services.order_reject(order=open_order[0], by=admin, reason="no")
                open_order = None
            elif action == "report":
                lines = [services.Line(books[b].pk, q)] if q else []
                report = services.report_submit(partner=partner, lines=lines, by=partner.user)
                expected[b] -= q
                reports.append((report, b, q, tick))
            elif action == "void":
                if not reports:
                    continue
                report, rb, rq, _t = reports.pop()
                services.report_void(report=report, by=admin, reason="typo")
                expected[rb] += rq
        except ValidationError:
            assert not allowed, (action, b, q)
        else:
            assert allowed, (action, b, q)
        held = stock_quantities_for_partner(partner=partner)
        for i, book in enumerate(books):
            assert held.get(book.pk, 0) == expected[i] >= 0
