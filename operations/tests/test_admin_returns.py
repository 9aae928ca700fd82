"""Returns in the back office: receipt, refusal, recall, bulk recall, the order desk."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.ledger import check_ledger
from operations.models import Operation, Status, StockBalance
from operations.returns import return_ship
from operations.tests.factories import delivered_order, recall, request_return

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:operations_operation_changelist")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"))


@pytest.fixture
def stocked(partner, book, admin_user):
    delivered_order(partner, (book, 5), admin=admin_user)
    return partner


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(op):
    return reverse("admin:operations_operation_change", args=[op.pk])


def test_a_shipped_return_is_received_with_damaged_copies_and_a_shortfall(
    admin_client, stocked, book
):
    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user, carrier_reference="COLIS-1")
    page = admin_client.get(change_url(ret))
    assert "Receive…" in page.text and "COLIS-1" in page.text
    url = reverse("admin:operations_operation_receive", args=[ret.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {f"received_{book.pk}": "3", f"damaged_{book.pk}": "1", "admin_note": "torn"}
    )
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Status.RECEIVED and ret.admin_note == "torn"
    item = ret.items.get()
    assert (item.quantity, item.damaged, item.shortfall) == (-3, 1, 1)
    assert StockBalance.objects.get(partner=stocked, book=book).quantity == 2
    assert check_ledger() == []


@pytest.mark.parametrize(
    ("received", "damaged"), [("5", "0"), ("-1", "0"), ("abc", "0"), ("2", "3"), ("", "")]
)
def test_a_wrong_receipt_is_shown_again_with_its_error_and_changes_nothing(
    admin_client, stocked, book, received, damaged
):
    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user)
    url = reverse("admin:operations_operation_receive", args=[ret.pk])
    response = admin_client.post(
        url, {f"received_{book.pk}": received, f"damaged_{book.pk}": damaged}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Operation.objects.get(pk=ret.pk).status == Status.SHIPPED


def test_receiving_a_return_not_shipped_is_refused_with_a_message(admin_client, stocked, book):
    ret = request_return(stocked, (book, 1))
    url = reverse("admin:operations_operation_receive", args=[ret.pk])
    response = admin_client.post(url, {f"received_{book.pk}": "1", f"damaged_{book.pk}": "0"})
    assert response.status_code == 302
    assert any("only a shipped return" in t for t in texts(response))
    assert Operation.objects.get(pk=ret.pk).status == Status.REQUESTED


def test_a_request_is_refused_with_a_reason_from_its_page(admin_client, stocked, book):
    ret = request_return(stocked, (book, 2))
    url = reverse("admin:operations_operation_refuse", args=[ret.pk])
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"reason": "Still selling", "apply": "1"})
    ret.refresh_from_db()
    assert ret.status == Status.REFUSED and ret.close_reason == "Still selling"
    assert StockBalance.objects.get(partner=stocked, book=book).reserved == 0


def test_the_refuse_action_refuses_requests_and_names_the_recalls_it_cannot(
    admin_client, stocked, book, admin_user
):
    requested = request_return(stocked, (book, 1))
    recalled = recall(stocked, (book, 1), admin=admin_user)
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "refuse_returns",
            "_selected_action": [requested.pk, recalled.pk],
            "reason": "no",
            "apply": "1",
        },
    )
    assert response.status_code == 302
    assert Operation.objects.get(pk=requested.pk).status == Status.REFUSED
    assert Operation.objects.get(pk=recalled.pk).status == Status.RECALLED
    assert any(recalled.reference in t for t in texts(response))


def test_an_admin_recalls_copies_from_the_partner_page(admin_client, stocked, book):
    partner_page = admin_client.get(reverse("admin:accounts_partner_change", args=[stocked.pk]))
    assert 'id="recall-link"' in partner_page.text
    url = reverse("admin:operations_recall", args=[stocked.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {f"copies_{book.pk}": "9", "reason": "New edition"})
    assert response.status_code == 200  # more than held: refused, shown again
    assert "5 copies held" in response.text
    response = admin_client.post(url, {f"copies_{book.pk}": "", "reason": "New edition"})
    assert "Name at least one title" in response.text
    response = admin_client.post(url, {f"copies_{book.pk}": "3", "reason": "New edition"})
    ret = Operation.objects.returns().get()
    assert response.status_code == 302 and response.url == change_url(ret)
    assert ret.status == Status.RECALLED and ret.admin_note == "New edition"
    page = admin_client.get(change_url(ret))
    assert "Cancel the recall" in page.text
    admin_client.post(reverse("admin:operations_operation_cancel_return", args=[ret.pk]))
    assert Operation.objects.get(pk=ret.pk).status == Status.CANCELLED


def test_a_bulk_recall_takes_a_title_back_from_every_holder(
    admin_client, stocked, other_partner, book, admin_user
):
    delivered_order(other_partner, (book, 2), admin=admin_user)
    book_page = admin_client.get(reverse("admin:catalog_book_change", args=[book.pk]))
    assert 'id="bulk-recall"' in book_page.text
    url = reverse("admin:operations_bulk_recall", args=[book.pk])
    page = admin_client.get(url)
    assert "Alice Livres: 5 of 5 copies free" in page.text
    response = admin_client.post(url, {"reason": "Retired edition"})
    assert response.status_code == 302
    assert Operation.objects.returns().filter(status=Status.RECALLED).count() == 2
    assert check_ledger() == []


def test_the_order_desk_counts_returns_to_act_on(admin_client, stocked, book, admin_user):
    request_return(stocked, (book, 1))
    shipped = request_return(stocked, (book, 1))
    return_ship(ret=shipped, by=stocked.user)
    recall(stocked, (book, 1), admin=admin_user)
    recall(stocked, (book, 1), admin=admin_user)
    text = admin_client.get(reverse("admin:index")).text
    assert '<td id="desk-returns-requested">1</td>' in text
    assert '<td id="desk-returns-shipped">1</td>' in text
    assert '<td id="desk-returns-recalled">2</td>' in text


def test_returns_are_filtered_and_exported_with_the_other_operations(admin_client, stocked, book):
    ret = request_return(stocked, (book, 2))
    response = admin_client.get(CHANGELIST, {"kind__exact": "return"})
    assert list(response.context["cl"].queryset) == [ret]
    export = admin_client.get(
        reverse("admin:operations_operation_export"), {"kind__exact": "return"}
    )
    body = b"".join(export.streaming_content).decode()
    assert ret.reference in body


def test_the_return_pages_are_for_admins_only(client, partner_client, stocked, book):
    ret = request_return(stocked, (book, 1))
    for url in [
        reverse("admin:operations_operation_receive", args=[ret.pk]),
        reverse("admin:operations_recall", args=[stocked.pk]),
        reverse("admin:operations_bulk_recall", args=[book.pk]),
    ]:
        response = partner_client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


def test_the_receipt_and_recall_pages_run_the_same_queries_with_10_or_500_lines(
    admin_client, partner, admin_user
):
    from django.db.models import F

    from operations.tests.portal_data import grow_history, query_count

    def counts():
        rows = StockBalance.objects.filter(partner=partner, quantity__gt=F("reserved"))
        ret = request_return(partner, *[(row.book, 1) for row in rows.select_related("book")])
        return_ship(ret=ret, by=partner.user)
        return (
            query_count(admin_client, reverse("admin:operations_operation_receive", args=[ret.pk])),
            query_count(admin_client, reverse("admin:operations_recall", args=[partner.pk])),
            query_count(admin_client, change_url(ret)),
        )

    grow_history(partner, 10, admin=admin_user)
    small = counts()
    grow_history(partner, 500, admin=admin_user)
    big = counts()
    assert small == big


def test_the_operations_csv_gives_a_received_returns_copies_listed_and_damaged(
    admin_client, stocked, book, admin_user
):
    import csv
    import io

    from operations.returns import Receipt, return_receive

    ret = request_return(stocked, (book, 4))
    return_ship(ret=ret, by=stocked.user)
    return_receive(ret=ret, by=admin_user, receipts=[Receipt(book.pk, 3, 1)])
    export = admin_client.get(
        reverse("admin:operations_operation_export"), {"kind__exact": "return"}
    )
    body = b"".join(export.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][1] == ret.reference
    assert rows[1][7:] == ["-3", "12.50", "37.50", "4", "1"]


def test_the_partner_page_shows_open_returns_reserved_copies_and_shortfalls(
    admin_client, stocked, book, admin_user
):
    from operations.returns import Receipt, return_receive

    received = request_return(stocked, (book, 2))
    return_ship(ret=received, by=stocked.user)
    return_receive(ret=received, by=admin_user, receipts=[Receipt(book.pk, 1)])
    open_return = request_return(stocked, (book, 3))
    page = admin_client.get(reverse("admin:accounts_partner_change", args=[stocked.pk]))
    assert open_return.reference in page.text
    assert "3 set aside for a return" in page.text
    assert f"1 copy missing from return {received.reference}" in page.text
