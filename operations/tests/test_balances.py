"""The stored stock balance follows every service that changes stock, in the same
transaction, and the database refuses a negative one."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.balances import balances_rebuild, ledger_balances
from operations.clock import backdated
from operations.models import StockBalance
from operations.services import report_void
from operations.tests.factories import delivered_order, submit_report

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
