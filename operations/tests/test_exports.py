import csv
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PartnerFactory
from catalog.tests.factories import BookFactory
from operations.models import Item, Kind, Operation, Status
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:operations_operation_export")


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_has_one_row_per_item_with_amounts(admin_client, partner, other_partner):
    book = BookFactory(title="Nana", isbn="9782070368228", price=Decimal("12.50"))
    other = BookFactory(title="Thérèse Raquin", price=Decimal("8.00"))
    order = delivered_order(partner, (book, 3), (other, 1))
    report = submit_report(partner, (book, 2))
    place_order(other_partner, (other, 4))

    response = admin_client.get(EXPORT)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header == [
        "Date",
        "Reference",
        "Partner",
        "Kind",
        "Status",
        "Book",
        "ISBN",
        "Quantity",
        "Unit price",
        "Amount",
        "Copies to return",
        "Copies damaged",
    ]
    assert len(body) == 4
    sale = next(r for r in body if r[1] == report.reference)
    assert sale[2:] == [
        "Alice Livres",
        "Sales report",
        "Recorded",
        "Nana",
        "9782070368228",
        "-2",
        "12.50",
        "25.00",
        "",
        "",
    ]
    delivery = [r for r in body if r[1] == order.reference]
    assert {r[5] for r in delivery} == {"Nana", "Thérèse Raquin"}


def test_export_follows_the_changelist_filters_and_search(admin_client, partner, other_partner):
    book = BookFactory(title="Nana")
    other = BookFactory(title="Germinal")
    delivered_order(partner, (book, 3))
    pending = place_order(other_partner, (other, 4))

    rows = read_csv(admin_client.get(EXPORT, {"status__exact": Status.PENDING}))
    assert [r[1] for r in rows[1:]] == [pending.reference]

    rows = read_csv(admin_client.get(EXPORT, {"partner__id__exact": partner.pk}))
    assert {r[2] for r in rows[1:]} == {"Alice Livres"}

    rows = read_csv(admin_client.get(EXPORT, {"book": "Germinal"}))
    assert [r[1] for r in rows[1:]] == [pending.reference]


def test_the_changelist_links_to_the_export_with_its_filters(admin_client):
    response = admin_client.get(
        reverse("admin:operations_operation_changelist"), {"status__exact": "pending"}
    )
    assert f"{EXPORT}?status__exact=pending" in response.text


def test_a_bad_filter_sends_back_to_the_changelist(admin_client):
    response = admin_client.get(EXPORT, {"created_at__gte": "not a date"})
    assert response.status_code == 302


def test_ten_thousand_items_stream_with_a_bounded_number_of_queries(
    admin_client, admin_user, django_assert_max_num_queries
):
    partners = PartnerFactory.create_batch(5)
    books = BookFactory.create_batch(100)
    now = timezone.now()
    operations = Operation.objects.bulk_create(
        Operation(
            kind=Kind.ORDER,
            status=Status.DELIVERED,
            counts_in_stock=True,
            partner=partners[n % 5],
            reference=f"ORD-2026-{n + 1:05d}",
            counted_seq=n // 5 + 1,
            created_by=admin_user,
            created_at=now,
            delivered_at=now,
            delivered_by=admin_user,
        )
        for n in range(100)
    )
    if operations[0].pk is None:  # backends that do not return ids from bulk inserts
        operations = list(Operation.objects.order_by("pk"))
    Item.objects.bulk_create(
        (
            Item(operation=op, book=book, quantity=2, unit_price=Decimal("10.00"))
            for op in operations
            for book in books
        ),
        batch_size=2000,
    )
    assert Item.objects.count() == 10_000

    with django_assert_max_num_queries(12):
        response = admin_client.get(EXPORT)
        assert response.streaming
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
    assert lines == 10_001
