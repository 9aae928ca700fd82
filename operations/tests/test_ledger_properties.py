"""Property: whatever partners and admins try, in any order, the ledger's stock equals a
plain model of the rules, never goes negative, and `ledger_check` finds nothing. Actions on
an order or report that is no longer open are tried too: they are refused and change
nothing. Returns reserve copies (a report or another return cannot take them), are shipped,
received in part, cancelled or refused."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory, PartnerFactory
from catalog.tests.factories import BookFactory
from operations import returns, services
from operations.ledger import check_ledger
from operations.models import EventCounter, Item, Operation, Stock, StockBalance
from operations.rollups import trailing_roll
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
        st.tuples(st.just("return"), st.integers(0, BOOKS - 1), st.integers(-1, 6)),
        st.tuples(st.just("ship"), st.just(0), st.just(0)),
        st.tuples(st.just("receive"), st.just(0), st.integers(0, 6)),
        st.tuples(st.just("cancel_return"), st.just(0), st.just(0)),
        st.tuples(st.just("refuse"), st.just(0), st.just(0)),
    ),
    max_size=30,
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
        list(
            Item.objects.filter(operation__partner=partner)
            .order_by("pk")
            .values_list("pk", "quantity", "damaged")
        ),
        list(
            StockBalance.objects.filter(partner=partner)
            .order_by("pk")
            .values_list("pk", "quantity", "reserved")
        ),
        EventCounter.objects.filter(partner=partner).values_list("last_seq", flat=True).first(),
    )


def _run(steps):
    # The trailing twelve months end with this month: every step below writes into them, and
    # `check_ledger` proves them after each one.
    trailing_roll(month=timezone.localdate().replace(day=1))
    admin = AdminUserFactory()
    partner = PartnerFactory()
    books = [BookFactory(price=Decimal("10.00")) for _ in range(BOOKS)]
    expected = dict.fromkeys(range(BOOKS), 0)
    open_order = None  # [operation, book index, copies, approved?]
    last_order = None  # the latest order, whatever its status: acted on when none is open
    reports = []  # recorded reports: (operation, book index, copies, tick)
    last_voided = None
    last_delivery_tick = None
    reserved = dict.fromkeys(range(BOOKS), 0)
    open_return = None  # [operation, book index, copies, shipped?] (the latest one open)
    last_return = None
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
            "report": q <= expected[b] - reserved[b],
            "void": bool(reports),
            "return": open_return is None and 1 <= q <= expected[b] - reserved[b],
            "ship": open_return is not None and not open_return[3],
            "receive": open_return is not None and open_return[3],
            "cancel_return": open_return is not None and not open_return[3],
            "refuse": open_return is not None and not open_return[3],
        }[action]
        if action == "return" and open_return is not None:
            continue  # one open return at a time keeps the model plain
        ret = open_return[0] if open_return else last_return
        if action in ("ship", "receive", "cancel_return", "refuse") and ret is None:
            continue
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
            elif action == "return":
                ret = returns.return_request(
                    partner=partner, lines=[services.Line(books[b].pk, q)], by=partner.user
                )
                open_return = [ret, b, q, False]
                last_return = ret
                reserved[b] += q
            elif action == "ship":
                returns.return_ship(ret=ret, by=partner.user)
                open_return[3] = True
            elif action == "receive":
                rb, copies = open_return[1], open_return[2]
                received = min(q, copies)
                returns.return_receive(
                    ret=ret,
                    by=admin,
                    receipts=[returns.Receipt(books[rb].pk, received, received // 2)],
                )
                expected[rb] -= received
                reserved[rb] -= copies
                open_return = None
            elif action in ("cancel_return", "refuse"):
                if action == "refuse":
                    returns.return_refuse(ret=ret, by=admin, reason="no")
                else:
                    returns.return_cancel(ret=ret, by=partner.user)
                reserved[open_return[1]] -= open_return[2]
                open_return = None
        except ValidationError:
            assert not allowed, (action, b, q)
            assert _snapshot(partner) == before, (action, "a refused action changed the ledger")
        else:
            assert allowed, (action, b, q)
        held = stock_quantities_for_partner(partner=partner)
        stored = StockBalance.objects.stock_of(partner=partner)
        for i, book in enumerate(books):
            assert held.get(book.pk, 0) == expected[i] >= 0
            assert stored.get(book.pk, Stock()).reserved == reserved[i] <= expected[i]
        assert check_ledger() == []
        _assert_the_dashboard_agrees(partner)


def _assert_the_dashboard_agrees(partner):
    """The dashboard's one-query reading says what the separate selectors say."""
    from operations import selectors

    moment = selectors.partner_moment(partner=partner)
    state = selectors.ordering_state(partner=partner)
    assert (moment.state.code, moment.state.open_order, moment.state.last_delivery_at) == (
        state.code,
        state.open_order,
        state.last_delivery_at,
    )
    assert moment.latest_order == selectors.latest_order_for_partner(partner=partner)
    assert moment.last_report == selectors.last_report_for_partner(partner=partner)
    assert moment.recalls == selectors.open_recalls_for_partner(partner=partner)
