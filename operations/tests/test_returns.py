"""Returns of unsold copies (rule 10), through the services."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import AuditEntry
from catalog.tests.factories import BookFactory
from operations.ledger import check_ledger
from operations.models import Item, Notification, Operation, Status, StockBalance
from operations.returns import (
    Receipt,
    return_bulk_recall,
    return_cancel,
    return_receive,
    return_refuse,
    return_ship,
)
from operations.selectors import stock_quantities_for_partner
from operations.services import order_place
from operations.tests.factories import (
    delivered_order,
    lines_of,
    recall,
    request_return,
    submit_report,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    return BookFactory(price=Decimal("10.00"))


@pytest.fixture
def stocked(partner, book, admin_user):
    delivered_order(partner, (book, 5), admin=admin_user)
    return partner


def balance(partner, book):
    return StockBalance.objects.get(partner=partner, book=book)


def test_a_requested_return_reserves_its_copies_and_leaves_the_stock_as_it_is(stocked, book):
    ret = request_return(stocked, (book, 3), note="Unsold")
    assert ret.reference.startswith("RET-") and ret.reference.endswith("-00001")
    assert ret.status == Status.REQUESTED and not ret.counts_in_stock
    row = balance(stocked, book)
    assert (row.quantity, row.reserved) == (5, 3)
    item = ret.items.get()
    assert (item.quantity, item.requested, item.damaged) == (-3, 3, None)
    assert check_ledger() == []


def test_a_return_cannot_list_more_than_held_minus_other_open_returns(stocked, book):
    request_return(stocked, (book, 3))
    with pytest.raises(ValidationError, match="3 already in an open return"):
        request_return(stocked, (book, 3))
    request_return(stocked, (book, 2))
    assert balance(stocked, book).reserved == 5
    assert check_ledger() == []


def test_a_return_of_a_book_not_held_or_with_no_lines_is_refused(stocked):
    with pytest.raises(ValidationError, match="No copies"):
        request_return(stocked, (BookFactory(), 1))
    with pytest.raises(ValidationError, match="at least one book"):
        request_return(stocked)
    assert not Operation.objects.returns().exists()


def test_a_report_cannot_sell_reserved_copies(stocked, book):
    request_return(stocked, (book, 3))
    with pytest.raises(ValidationError, match="3 of them in an open return"):
        submit_report(stocked, (book, 3))
    submit_report(stocked, (book, 2))
    row = balance(stocked, book)
    assert (row.quantity, row.reserved) == (3, 3)
    assert check_ledger() == []


def test_only_the_partner_requests_its_return(stocked, other_partner, book):
    from operations.returns import return_request

    with pytest.raises(ValidationError):
        return_request(partner=stocked, lines=lines_of((book, 1)), by=other_partner.user)


def test_shipping_then_receiving_takes_the_copies_received_out_of_stock(stocked, book, admin_user):
    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user, carrier_reference="COLIS-42")
    ret.refresh_from_db()
    assert ret.status == Status.SHIPPED and ret.carrier_reference == "COLIS-42"
    assert ret.shipped_by == stocked.user and ret.shipped_at
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, received=3, damaged=1)])
    ret.refresh_from_db()
    assert ret.status == Status.RECEIVED and ret.counts_in_stock and ret.counted_seq == 2
    item = ret.items.get()
    assert (item.quantity, item.requested, item.damaged, item.shortfall) == (-3, 4, 1, 1)
    row = balance(stocked, book)
    # The shortfall (1) stays the partner's stock; nothing is reserved any more.
    assert (row.quantity, row.reserved, row.sold, row.delivered) == (2, 0, 0, 5)
    assert stock_quantities_for_partner(partner=stocked)[book.pk] == 2
    assert check_ledger() == []


def test_a_return_received_with_nothing_in_the_parcel_keeps_the_stock(stocked, book, admin_user):
    ret = request_return(stocked, (book, 2))
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, received=0)])
    assert ret.items.get().quantity == 0
    assert balance(stocked, book).quantity == 5
    assert check_ledger() == []


@pytest.mark.parametrize(
    ("received", "damaged", "words"),
    [(5, 0, "from 0 to 4"), (-1, 0, "from 0 to 4"), (2, 3, "damaged copies")],
)
def test_a_receipt_out_of_bounds_is_refused_and_changes_nothing(
    stocked, book, admin_user, received, damaged, words
):
    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user)
    with pytest.raises(ValidationError, match=words):
        return_receive(
            ret=ret, by=admin_user, receipts=[Receipt(book.pk, received=received, damaged=damaged)]
        )
    ret.refresh_from_db()
    assert ret.status == Status.SHIPPED
    assert balance(stocked, book).reserved == 4
    assert check_ledger() == []


def test_a_receipt_must_name_every_line_and_no_other_book(stocked, book, admin_user):
    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user)
    with pytest.raises(ValidationError, match="enter the copies received"):
        return_receive(ret=ret, by=admin_user, receipts=[])
    with pytest.raises(ValidationError, match="not on the return"):
        return_receive(
            ret=ret,
            by=admin_user,
            receipts=[Receipt(book.pk, 1), Receipt(BookFactory().pk, 1)],
        )


def test_a_return_not_shipped_cannot_be_received(stocked, book, admin_user):
    ret = request_return(stocked, (book, 1))
    with pytest.raises(ValidationError, match="only a shipped return can be received"):
        return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 1)])


def test_the_partner_cancels_its_request_and_the_copies_are_free_again(stocked, book):
    ret = request_return(stocked, (book, 5))
    return_cancel(ret=ret, by=stocked.user)
    ret.refresh_from_db()
    assert ret.status == Status.CANCELLED and ret.closed_by == stocked.user
    assert balance(stocked, book).reserved == 0
    submit_report(stocked, (book, 5))
    assert check_ledger() == []


def test_a_shipped_return_cannot_be_cancelled(stocked, book):
    ret = request_return(stocked, (book, 1))
    return_ship(ret=ret, by=stocked.user)
    with pytest.raises(ValidationError, match="only before it is shipped"):
        return_cancel(ret=ret, by=stocked.user)
    assert balance(stocked, book).reserved == 1


def test_a_recall_is_cancelled_by_an_admin_not_by_the_partner(stocked, book, admin_user):
    ret = recall(stocked, (book, 2), admin=admin_user)
    with pytest.raises(ValidationError):
        return_cancel(ret=ret, by=stocked.user)
    return_cancel(ret=ret, by=admin_user)
    assert balance(stocked, book).reserved == 0


def test_a_request_is_cancelled_by_the_partner_not_by_an_admin(stocked, book, admin_user):
    ret = request_return(stocked, (book, 2))
    with pytest.raises(ValidationError):
        return_cancel(ret=ret, by=admin_user)


def test_an_admin_refuses_a_request_with_a_reason(stocked, book, admin_user):
    ret = request_return(stocked, (book, 2))
    with pytest.raises(ValidationError, match="reason"):
        return_refuse(ret=ret, by=admin_user, reason=" ")
    with pytest.raises(ValidationError):
        return_refuse(ret=ret, by=stocked.user, reason="no")
    return_refuse(ret=ret, by=admin_user, reason="Still selling well")
    ret.refresh_from_db()
    assert ret.status == Status.REFUSED and ret.close_reason == "Still selling well"
    assert balance(stocked, book).reserved == 0
    assert check_ledger() == []


def test_a_recall_cannot_be_refused(stocked, book, admin_user):
    ret = recall(stocked, (book, 2), admin=admin_user)
    with pytest.raises(ValidationError, match="only a requested return can be refused"):
        return_refuse(ret=ret, by=admin_user, reason="no")


def test_a_recall_is_shipped_by_the_partner_and_received(stocked, book, admin_user):
    ret = recall(stocked, (book, 5), admin=admin_user, reason="New edition")
    assert ret.status == Status.RECALLED and ret.admin_note == "New edition"
    assert ret.created_by == admin_user
    with pytest.raises(ValidationError):
        return_ship(ret=ret, by=admin_user)
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 5)])
    assert balance(stocked, book).quantity == 0
    assert check_ledger() == []


def test_a_bulk_recall_takes_every_free_copy_from_every_holder(
    stocked, other_partner, suspended_partner, book, admin_user
):
    delivered_order(other_partner, (book, 2), admin=admin_user)
    request_return(stocked, (book, 1))
    result = return_bulk_recall(book=book, by=admin_user, reason="Retired edition")
    recalled = {ret.partner_id: ret.items.get().quantity for ret in result.recalled}
    assert recalled == {stocked.pk: -4, other_partner.pk: -2}
    assert balance(stocked, book).reserved == 5
    again = return_bulk_recall(book=book, by=admin_user)
    assert again.recalled == [] and len(again.skipped) == 2
    assert check_ledger() == []


def test_a_return_neither_satisfies_nor_blocks_rule_2(stocked, book, admin_user):
    ret = request_return(stocked, (book, 2))
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 2)])
    # The delivery still awaits a report: a received return is not one.
    with pytest.raises(ValidationError, match="Report your sales"):
        order_place(partner=stocked, lines=lines_of((book, 1)), by=stocked.user)
    submit_report(stocked)
    # An open return does not block ordering.
    request_return(stocked, (book, 1))
    order_place(partner=stocked, lines=lines_of((book, 1)), by=stocked.user)
    assert check_ledger() == []


def test_every_step_is_audited(stocked, book, admin_user):
    ret = request_return(stocked, (book, 2))
    return_ship(ret=ret, by=stocked.user, carrier_reference="X1")
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 2, 1)])
    actions = list(
        AuditEntry.objects.filter(object_id=str(ret.pk))
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("return.requested", stocked.user_id),
        ("return.shipped", stocked.user_id),
        ("return.received", admin_user.pk),
    ]
    receipt = AuditEntry.objects.get(action="return.received")
    assert receipt.after["receipt"] == [{"book": book.pk, "received": 2, "damaged": 1}]


def test_admins_hear_of_requests_and_shipments_partners_of_recalls_refusals_receipts(
    stocked, book, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ret = request_return(stocked, (book, 1))
        return_ship(ret=ret, by=stocked.user)
        return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 1)])
        refused = request_return(stocked, (book, 1))
        return_refuse(ret=refused, by=admin_user, reason="no")
        recall(stocked, (book, 1), admin=admin_user)
    to_admin = set(
        Notification.objects.filter(recipient=admin_user).values_list("event", flat=True)
    )
    to_partner = set(
        Notification.objects.filter(recipient=stocked.user).values_list("event", flat=True)
    )
    assert {"return_requested", "return_shipped"} <= to_admin
    assert {"return_received", "return_refused", "return_recalled"} <= to_partner
    # One e-mail per notice, sent after commit, in each reader's language.
    assert len(mail.outbox) == Notification.objects.filter(event__startswith="return_").count()
    assert all("RET-" in m.subject for m in mail.outbox)


def test_deleting_a_return_line_is_refused_once_received(stocked, book, admin_user):
    ret = request_return(stocked, (book, 1))
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 1)])
    with pytest.raises(Exception, match="never deleted"):
        Item.objects.filter(operation=ret).delete()


def test_figures_count_returned_and_damaged_copies_and_sell_through_leaves_them_out(
    stocked, book, admin_user
):
    from operations.analytics import SalesFilters, default_sales_period, sales_by_partner
    from operations.selectors import partner_figures

    submit_report(stocked, (book, 1))
    ret = request_return(stocked, (book, 3))
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, received=3, damaged=1)])
    figures = partner_figures(partner=stocked)
    assert (figures.copies_delivered, figures.copies_sold, figures.copies_returned) == (5, 1, 3)
    assert figures.copies_damaged == 1
    assert figures.sell_through == Decimal(1) / Decimal(2)  # 1 sold of 5 - 3 kept
    date_from, date_to = default_sales_period()
    (row,) = sales_by_partner(SalesFilters(date_from=date_from, date_to=date_to))
    assert (row.copies_returned, row.copies_damaged, row.sell_through_percent) == (
        3,
        1,
        Decimal("50.0"),
    )


def test_an_open_return_cannot_be_deleted_a_cancelled_one_can(stocked, book, admin_user):
    from operations.services import operation_delete

    ret = request_return(stocked, (book, 2))
    with pytest.raises(ValidationError, match="open return"):
        operation_delete(operation=ret, by=admin_user)
    return_cancel(ret=ret, by=stocked.user)
    operation_delete(operation=Operation.objects.get(pk=ret.pk), by=admin_user)
    assert not Operation.objects.returns().exists()
    assert check_ledger() == []
