"""The stored stock balance follows every service that changes stock, in the same
transaction, and the database refuses a negative one."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.balances import balances_rebuild, ledger_balances
from operations.clock import backdated
from operations.models import Stock, StockBalance
from operations.services import report_void
from operations.tests.factories import delivered_order, request_return, submit_report

pytestmark = pytest.mark.django_db


def balance(partner, book):
    return StockBalance.objects.get(partner=partner, book=book)


def test_delivery_report_and_void_move_the_balance(partner, admin_user):
    book, other = BookFactory(), BookFactory()
    order = delivered_order(partner, (book, 5), (other, 2), admin=admin_user)
    row = balance(partner, book)
    assert (row.quantity, row.delivered, row.sold) == (5, 5, 0)
    assert row.last_delivery_at == order.delivered_at and row.last_sale_at is None

    earlier = timezone.now() - timedelta(days=3)
    with backdated(earlier):
        first = submit_report(partner, (book, 1))
    second = submit_report(partner, (book, 2))
    row = balance(partner, book)
    assert (row.quantity, row.sold, row.last_sale_at) == (2, 3, second.created_at)

    report_void(report=second, by=admin_user, reason="typo")
    row = balance(partner, book)
    # The copies come back, and the last sale is again that of the report still recorded.
    assert (row.quantity, row.sold, row.last_sale_at) == (4, 1, first.created_at)
    assert balance(partner, other).quantity == 2


def test_the_balance_equals_a_rebuild_from_the_ledger(partner, other_partner, admin_user):
    book = BookFactory()
    delivered_order(partner, (book, 4), admin=admin_user)
    delivered_order(other_partner, (book, 1), admin=admin_user)
    submit_report(partner, (book, 3))
    stored = {
        (b.partner_id, b.book_id): (b.quantity, b.delivered, b.sold)
        for b in StockBalance.objects.all()
    }
    expected = {
        key: (v["quantity"], v["delivered"], v["sold"]) for key, v in ledger_balances().items()
    }
    assert stored == expected
    assert balances_rebuild() == 2
    assert {
        (b.partner_id, b.book_id): (b.quantity, b.delivered, b.sold)
        for b in StockBalance.objects.all()
    } == expected


def test_the_database_refuses_a_negative_balance(partner, admin_user):
    book = BookFactory()
    delivered_order(partner, (book, 1), admin=admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(partner=partner, book=book).update(quantity=-1)


# -- free copies (rules 3 and 10): held minus reserved by open returns ------------------------

REFUSALS = {"none": "none", "reserved": "reserved", "short": "short"}


@pytest.mark.parametrize(("held", "reserved", "free"), [(5, 0, 5), (5, 3, 2), (3, 3, 0), (0, 0, 0)])
def test_free_copies_are_the_copies_held_minus_those_reserved(held, reserved, free):
    assert Stock(held, reserved).free == free
    assert Stock().free == 0


@pytest.mark.parametrize(
    ("held", "reserved", "copies", "refusal"),
    [
        (5, 2, 3, None),  # exactly the free copies
        (5, 0, 5, None),
        (0, 0, 1, "none"),
        (5, 2, 4, "reserved"),  # enough held, but not enough free
        (3, 3, 1, "reserved"),
        (5, 0, 6, "short"),
    ],
)
def test_a_refusal_says_none_held_some_reserved_or_too_few_held(held, reserved, copies, refusal):
    assert Stock(held, reserved).refusal(copies, **REFUSALS) == refusal


def test_every_stock_read_counts_the_same_free_copies(partner, admin_user):
    book, other = BookFactory(), BookFactory()
    delivered_order(partner, (book, 5), (other, 2), admin=admin_user)
    request_return(partner, (book, 3))

    stocks = StockBalance.objects.stock_of(partner=partner)
    assert stocks == {book.pk: Stock(5, 3), other.pk: Stock(2, 0)}
    assert StockBalance.objects.stock_of(partner=partner, book_ids=[other.pk]) == {
        other.pk: Stock(2, 0)
    }
    assert balance(partner, book).stock.free == 2
    rows = StockBalance.objects.with_free().filter(partner=partner).values_list("book_id", "free")
    assert dict(rows) == {book.pk: 2, other.pk: 2}
