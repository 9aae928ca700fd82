from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import AdminUserFactory
from catalog.tests.factories import BookFactory
from operations.models import Item, Operation, Status
from operations.selectors import ordering_state, stock_quantities_for_partner, stock_totals
from operations.services import (
    Line,
    order_approve,
    order_cancel,
    order_deliver,
    order_place,
    order_reject,
    report_submit,
    report_void,
)
from operations.tests.factories import delivered_order, lines_of, place_order, submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"))


@pytest.fixture
def book2(db):
    return BookFactory(title="Germinal", price=Decimal("9.90"))


def held(partner, book):
    return stock_quantities_for_partner(partner=partner).get(book.pk, 0)


# -- placing orders -----------------------------------------------------------------------


def test_placing_an_order_creates_a_pending_order_with_snapshotted_prices(partner, book, book2):
    order = place_order(partner, (book, 3), (book2, 1), note="Pour la rentrée")
    assert order.status == Status.PENDING
    assert order.reference.startswith("ORD-")
    assert order.partner_note == "Pour la rentrée"
    items = {i.book_id: i for i in order.items.all()}
    assert items[book.pk].quantity == 3
    assert items[book.pk].unit_price == Decimal("12.50")
    assert items[book2.pk].quantity == 1
    assert order.created_by == partner.user


def test_references_are_sequential_per_kind_and_year(partner, other_partner, book):
    first = place_order(partner, (book, 1))
    second = place_order(other_partner, (book, 1))
    year = first.created_at.year
    assert first.reference == f"ORD-{year}-00001"
    assert second.reference == f"ORD-{year}-00002"


def test_a_second_open_order_is_refused(partner, book):
    first = place_order(partner, (book, 1))
    with pytest.raises(ValidationError) as exc:
        place_order(partner, (book, 2))
    assert first.reference in " ".join(exc.value.messages)
    assert Operation.objects.count() == 1


def test_an_approved_order_still_blocks_a_new_one(partner, book, admin_user):
    order = place_order(partner, (book, 1))
    order_approve(order=order, by=admin_user)
    with pytest.raises(ValidationError):
        place_order(partner, (book, 2))


def test_an_order_without_lines_is_refused(partner):
    with pytest.raises(ValidationError) as exc:
        order_place(partner=partner, lines=[], by=partner.user)
    assert "at least one book" in " ".join(exc.value.messages)


@pytest.mark.parametrize("copies", [0, -1, 10000, 99999])
def test_an_order_with_a_quantity_out_of_range_is_refused(partner, book, copies):
    with pytest.raises(ValidationError):
        order_place(partner=partner, lines=[Line(book.pk, copies)], by=partner.user)
    assert not Operation.objects.exists()
    assert not Item.objects.exists()


def test_the_same_book_twice_is_refused(partner, book):
    with pytest.raises(ValidationError) as exc:
        order_place(partner=partner, lines=[Line(book.pk, 1), Line(book.pk, 2)], by=partner.user)
    assert "twice" in " ".join(exc.value.messages)


def test_a_retired_book_cannot_be_ordered(partner):
    retired = BookFactory(is_active=False)
    with pytest.raises(ValidationError) as exc:
        place_order(partner, (retired, 1))
    assert "no longer available" in " ".join(exc.value.messages)


def test_an_unknown_book_is_refused(partner):
    with pytest.raises(ValidationError):
        order_place(partner=partner, lines=[Line(987654, 1)], by=partner.user)


def test_an_order_cannot_be_placed_for_another_partner(partner, other_partner, book):
    with pytest.raises(ValidationError):
        order_place(partner=partner, lines=lines_of((book, 1)), by=other_partner.user)


def test_a_suspended_partner_cannot_order(suspended_partner, book):
    with pytest.raises(ValidationError):
        place_order(suspended_partner, (book, 1))


# -- report before reordering -------------------------------------------------------------------


def test_after_a_delivery_a_new_order_waits_for_a_report(partner, book):
    delivered_order(partner, (book, 5))
    state = ordering_state(partner=partner)
    assert state.code == "awaiting_report"
    assert "Report your sales" in state.reason
    with pytest.raises(ValidationError):
        place_order(partner, (book, 1))


def test_a_nothing_sold_report_satisfies_the_rule(partner, book):
    delivered_order(partner, (book, 5))
    report = report_submit(partner=partner, lines=[], by=partner.user)
    assert report.status == Status.RECORDED
    assert report.items.count() == 0
    assert ordering_state(partner=partner).can_order
    place_order(partner, (book, 1))


def test_a_voided_report_no_longer_satisfies_the_rule(partner, book, admin_user):
    delivered_order(partner, (book, 5))
    report = submit_report(partner, (book, 1))
    report_void(report=report, by=admin_user, reason="Typo")
    assert ordering_state(partner=partner).code == "awaiting_report"


def test_a_report_before_the_delivery_does_not_count(partner, book, admin_user):
    delivered_order(partner, (book, 5))
    submit_report(partner, (book, 1))
    order = place_order(partner, (book, 2))
    order_approve(order=order, by=admin_user)
    order_deliver(order=order, by=admin_user)
    assert ordering_state(partner=partner).code == "awaiting_report"


# -- transitions -------------------------------------------------------------------------


def test_full_order_lifecycle_records_who_and_when(partner, book, admin_user):
    order = place_order(partner, (book, 2))
    approved = order_approve(order=order, by=admin_user, admin_note="OK")
    assert approved.status == Status.APPROVED
    assert approved.approved_by == admin_user
    assert approved.approved_at is not None
    delivered = order_deliver(order=order, by=admin_user)
    delivered.refresh_from_db()
    assert delivered.status == Status.DELIVERED
    assert delivered.delivered_by == admin_user
    assert delivered.counts_in_stock
    assert delivered.admin_note == "OK"


def test_partner_cancels_its_pending_order(partner, book):
    order = place_order(partner, (book, 2))
    cancelled = order_cancel(order=order, by=partner.user)
    assert cancelled.status == Status.CANCELLED
    assert cancelled.closed_by == partner.user
    assert Operation.objects.filter(pk=order.pk).exists()
    place_order(partner, (book, 1))


def test_an_approved_order_cannot_be_cancelled(partner, book, admin_user):
    order = place_order(partner, (book, 2))
    order_approve(order=order, by=admin_user)
    with pytest.raises(ValidationError) as exc:
        order_cancel(order=order, by=partner.user)
    assert "only a pending order can be cancelled" in " ".join(exc.value.messages)
    order.refresh_from_db()
    assert order.status == Status.APPROVED


def test_another_partner_cannot_cancel_the_order(partner, other_partner, book):
    order = place_order(partner, (book, 2))
    with pytest.raises(ValidationError):
        order_cancel(order=order, by=other_partner.user)


@pytest.mark.parametrize("approve_first", [False, True])
def test_admin_rejects_a_pending_or_approved_order_with_a_reason(
    partner, book, admin_user, approve_first
):
    order = place_order(partner, (book, 2))
    if approve_first:
        order_approve(order=order, by=admin_user)
    rejected = order_reject(order=order, by=admin_user, reason="Out of print")
    assert rejected.status == Status.REJECTED
    assert rejected.close_reason == "Out of print"
    assert rejected.closed_by == admin_user


def test_rejection_needs_a_reason(partner, book, admin_user):
    order = place_order(partner, (book, 2))
    with pytest.raises(ValidationError):
        order_reject(order=order, by=admin_user, reason="  ")
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_a_delivered_order_is_final(partner, book, admin_user):
    order = delivered_order(partner, (book, 2), admin=admin_user)
    for action in (
        lambda: order_reject(order=order, by=admin_user, reason="late"),
        lambda: order_cancel(order=order, by=partner.user),
        lambda: order_approve(order=order, by=admin_user),
        lambda: order_deliver(order=order, by=admin_user),
    ):
        with pytest.raises(ValidationError):
            action()
    order.refresh_from_db()
    assert order.status == Status.DELIVERED


def test_a_pending_order_cannot_be_delivered_without_approval(partner, book, admin_user):
    order = place_order(partner, (book, 2))
    with pytest.raises(ValidationError) as exc:
        order_deliver(order=order, by=admin_user)
    assert "only an approved order can be delivered" in " ".join(exc.value.messages)


def test_a_partner_cannot_approve(partner, book):
    order = place_order(partner, (book, 2))
    with pytest.raises(ValidationError):
        order_approve(order=order, by=partner.user)


def test_a_stale_copy_cannot_apply_a_transition_twice(partner, book, admin_user):
    order = place_order(partner, (book, 2))
    stale = Operation.objects.get(pk=order.pk)
    order_approve(order=order, by=admin_user)
    with pytest.raises(ValidationError):
        order_approve(order=stale, by=admin_user)


# -- reports and stock ---------------------------------------------------------------------------


def test_stock_arithmetic_over_the_whole_lifecycle(partner, book, book2, admin_user):
    delivered_order(partner, (book, 5), (book2, 2), admin=admin_user)
    assert held(partner, book) == 5
    report = submit_report(partner, (book, 2))
    assert held(partner, book) == 3
    report_void(report=report, by=admin_user, reason="Wrong count")
    assert held(partner, book) == 5
    submit_report(partner, (book, 1), (book2, 2))
    assert held(partner, book) == 4
    assert held(partner, book2) == 0
    # approved, cancelled and rejected orders count for nothing
    approved = place_order(partner, (book, 7))
    order_approve(order=approved, by=admin_user)
    assert held(partner, book) == 4
    order_reject(order=approved, by=admin_user, reason="No")
    cancelled = place_order(partner, (book, 3))
    order_cancel(order=cancelled, by=partner.user)
    assert held(partner, book) == 4
    totals = stock_totals(partner=partner)
    assert totals.copies == 4
    assert totals.titles == 1
    assert totals.value == Decimal("50.00")


def test_reporting_more_than_held_is_refused(partner, book):
    delivered_order(partner, (book, 2))
    with pytest.raises(ValidationError) as exc:
        submit_report(partner, (book, 3))
    assert "you hold 2 copies" in " ".join(exc.value.messages)
    assert held(partner, book) == 2


def test_reporting_a_book_not_held_is_refused(partner, book, book2):
    delivered_order(partner, (book, 2))
    with pytest.raises(ValidationError) as exc:
        submit_report(partner, (book2, 1))
    assert "no copies" in " ".join(exc.value.messages)


def test_another_partners_stock_does_not_count(partner, other_partner, book):
    delivered_order(other_partner, (book, 5))
    with pytest.raises(ValidationError):
        submit_report(partner, (book, 1))


def test_unit_price_snapshot_survives_a_price_change(partner, book):
    order = delivered_order(partner, (book, 2))
    book.price = Decimal("20.00")
    book.save()
    report = submit_report(partner, (book, 1))
    assert order.items.get().unit_price == Decimal("12.50")
    assert report.items.get().unit_price == Decimal("20.00")


def test_voiding_needs_an_admin_and_a_reason(partner, book, admin_user):
    delivered_order(partner, (book, 2))
    report = submit_report(partner, (book, 1))
    with pytest.raises(ValidationError):
        report_void(report=report, by=partner.user, reason="oops")
    with pytest.raises(ValidationError):
        report_void(report=report, by=admin_user, reason="")
    voided = report_void(report=report, by=admin_user, reason="Counted twice")
    assert voided.status == Status.VOIDED
    with pytest.raises(ValidationError):
        report_void(report=report, by=admin_user, reason="again")


def test_inactive_admin_cannot_act(partner, book):
    admin = AdminUserFactory(is_active=False)
    order = place_order(partner, (book, 1))
    with pytest.raises(ValidationError):
        order_approve(order=order, by=admin)


def test_partner_figures_use_snapshotted_prices_and_commission(partner, book, book2, admin_user):
    partner.commission_rate = Decimal("35")
    partner.save()
    delivered_order(partner, (book, 4), (book2, 6), admin=admin_user)
    submit_report(partner, (book, 2), (book2, 1))
    book.price = Decimal("99.00")  # later price changes never rewrite sales
    book.save()
    from operations.selectors import partner_figures

    figures = partner_figures(partner=partner)
    assert figures.copies_delivered == 10
    assert figures.copies_sold == 3
    assert figures.sell_through == Decimal("0.3")
    assert figures.revenue == Decimal("34.90")  # 2 x 12.50 + 9.90
    assert figures.amount_due == Decimal("22.69")  # 34.90 x 0.65 = 22.685
    assert figures.stock_copies == 7
    assert figures.stock_value == Decimal("247.50")  # 2 x 99 + 5 x 9.90


def test_a_report_keeps_the_commission_of_its_day(partner, book, admin_user):
    from operations.selectors import partner_figures

    partner.commission_rate = Decimal("30")
    partner.save()
    delivered_order(partner, (book, 4), admin=admin_user)  # 12.50 each
    first = submit_report(partner, (book, 2))  # 25.00 at 30 %: 17.50 due
    partner.commission_rate = Decimal("40")
    partner.save()
    submit_report(partner, (book, 1))  # 12.50 at 40 %: 7.50 due
    assert first.commission_rate == Decimal("30")
    assert first.amount_due(Decimal("25.00")) == Decimal("17.50")
    figures = partner_figures(partner=partner)
    assert figures.revenue == Decimal("37.50")
    assert figures.amount_due == Decimal("25.00")


def test_a_report_form_sent_twice_records_one_report(partner, book):
    from operations.selectors import newest_report_pk
    from operations.services import ReportAlreadySent

    delivered_order(partner, (book, 3))
    shown_at = newest_report_pk(partner=partner)
    first = report_submit(
        partner=partner, lines=lines_of((book, 1)), by=partner.user, expected_newest_pk=shown_at
    )
    with pytest.raises(ReportAlreadySent) as exc:
        report_submit(
            partner=partner,
            lines=lines_of((book, 1)),
            by=partner.user,
            expected_newest_pk=shown_at,
        )
    assert exc.value.newest_pk == first.pk
    assert Operation.objects.reports().count() == 1


def test_marking_notices_read_touches_only_the_readers_own(partner, other_partner, admin_user):
    from operations.models import Notification
    from operations.services import notification_mark_read

    book = BookFactory()
    order = place_order(partner, (book, 1))
    order_approve(order=order, by=admin_user)
    mine = Notification.objects.get(recipient=partner.user)
    assert notification_mark_read(user=other_partner.user, pk=mine.pk) == 0
    assert notification_mark_read(user=partner.user, pk=mine.pk) == 1
    mine.refresh_from_db()
    assert mine.is_read
    assert notification_mark_read(user=admin_user) == 1  # the new-order notice
