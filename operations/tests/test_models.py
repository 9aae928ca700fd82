from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.tests.factories import BookFactory
from operations.models import Item, Kind, Operation, Status
from operations.services import operation_delete, operation_delete_refusal
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    return BookFactory(price=Decimal("10.00"))


def test_the_database_refuses_a_second_open_order(partner, book):
    order = place_order(partner, (book, 1))
    clone = Operation(
        kind=Kind.ORDER,
        status=Status.PENDING,
        partner=partner,
        reference="ORD-TEST-1",
        created_by=partner.user,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    assert order.pk


def test_the_database_keeps_counts_in_stock_in_step_with_the_status(partner, book):
    order = place_order(partner, (book, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.filter(pk=order.pk).update(counts_in_stock=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.filter(pk=order.pk).update(status=Status.DELIVERED)


def test_the_database_refuses_a_report_status_on_an_order(partner, book):
    order = place_order(partner, (book, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.filter(pk=order.pk).update(status=Status.RECORDED)


def test_the_database_refuses_a_rejection_without_reason(partner, book):
    order = place_order(partner, (book, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.filter(pk=order.pk).update(status=Status.REJECTED)


@pytest.mark.parametrize("quantity", [0, 10000, -10000])
def test_the_database_refuses_zero_or_huge_quantities(partner, book, quantity):
    order = place_order(partner, (book, 1))
    other = BookFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(operation=order, book=other, quantity=quantity, unit_price=1)


def test_the_database_refuses_a_book_twice_in_one_operation(partner, book):
    order = place_order(partner, (book, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(operation=order, book=book, quantity=1, unit_price=1)


def test_the_database_refuses_a_negative_unit_price(partner, book):
    order = place_order(partner, (book, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(operation=order, book=BookFactory(), quantity=1, unit_price=-1)


def test_counting_operations_cannot_be_deleted(partner, book, admin_user):
    from django.core.exceptions import ValidationError

    order = delivered_order(partner, (book, 2), admin=admin_user)
    report = submit_report(partner, (book, 1))
    for operation in (order, report):
        assert operation_delete_refusal(operation)
        with pytest.raises(ValidationError):
            operation_delete(operation=operation, by=admin_user)
    assert Operation.objects.count() == 2


def test_a_cancelled_order_can_be_deleted(partner, book, admin_user):
    from operations.services import order_cancel

    order = order_cancel(order=place_order(partner, (book, 2)), by=partner.user)
    assert operation_delete_refusal(order) is None
    operation_delete(operation=order, by=admin_user)
    assert not Operation.objects.exists()
    assert not Item.objects.exists()


def test_a_book_with_history_cannot_be_deleted(partner, book):
    from django.db.models import ProtectedError

    place_order(partner, (book, 1))
    with pytest.raises(ProtectedError):
        book.delete()
