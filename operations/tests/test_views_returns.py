"""The partner's returns on the portal: request, ship, cancel, the packing slip, and the
reserved copies on the stock, report and dashboard pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.clock import backdated
from operations.ledger import check_ledger
from operations.models import Operation, Status, StockBalance
from operations.returns import Receipt, return_receive, return_ship
from operations.tests.factories import delivered_order, recall, request_return, submit_report

pytestmark = pytest.mark.django_db

NEW = reverse("operations:return_new")


@pytest.fixture
def books(db):
    return (
        BookFactory(title="Alpha", price=Decimal("10.00")),
        BookFactory(title="Beta", price=Decimal("8.00")),
    )


@pytest.fixture
def stocked(partner, books, admin_user):
    old, fresh = books
    with backdated(timezone.now() - timedelta(days=300)):
        delivered_order(partner, (old, 4), admin=admin_user)
        submit_report(partner)
    delivered_order(partner, (fresh, 3), admin=admin_user)
    return partner


def test_the_return_page_suggests_titles_with_no_sale_first(partner_client, stocked, books):
    old, fresh = books
    response = partner_client.get(NEW)
    assert response.status_code == 200
    rows = response.context["form"].rows
    assert [r["book_id"] for r in rows] == [old.pk, fresh.pk]
    assert rows[0]["suggested"] and not rows[1]["suggested"]
    assert "No sale for 9 months" in response.text


def test_a_partner_requests_a_return_with_copies_back_or_kept_on_the_shelf(
    partner_client, stocked, books
):
    old, fresh = books
    response = partner_client.post(NEW, {f"back_{old.pk}": "4", f"keep_{fresh.pk}": "1"})
    ret = Operation.objects.returns().get()
    assert response.status_code == 302 and response.url == reverse(
        "operations:return_detail", args=[ret.pk]
    )
    assert dict(ret.items.values_list("book_id", "requested")) == {old.pk: 4, fresh.pk: 2}
    assert StockBalance.objects.get(partner=stocked, book=fresh).reserved == 2


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"back_X": "1"},
        {"back_1": "abc"},
        {"back_1": "5"},
        {"keep_1": "9"},
        {"back_1": "2", "keep_1": "1"},
        {"back_999999": "1"},
        {"back_1": "-1"},
    ],
)
def test_a_wrong_return_form_is_shown_again_and_requests_nothing(
    partner_client, stocked, books, data
):
    old, _fresh = books
    data = {k.replace("_1", f"_{old.pk}"): v for k, v in data.items()}
    response = partner_client.post(NEW, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Operation.objects.returns().exists()


def test_the_partner_ships_its_return_then_cannot_cancel_it(partner_client, stocked, books):
    old, _fresh = books
    ret = request_return(stocked, (old, 2))
    page = partner_client.get(reverse("operations:return_detail", args=[ret.pk]))
    assert "Parcel shipped" in page.text and "Cancel this return" in page.text
    partner_client.post(
        reverse("operations:return_ship", args=[ret.pk]), {"carrier_reference": "LP-1"}
    )
    ret.refresh_from_db()
    assert ret.status == Status.SHIPPED and ret.carrier_reference == "LP-1"
    page = partner_client.get(reverse("operations:return_detail", args=[ret.pk]))
    assert "Parcel shipped" not in page.text and "Cancel this return" not in page.text
    response = partner_client.post(reverse("operations:return_cancel", args=[ret.pk]))
    assert response.status_code == 302
    assert Operation.objects.get(pk=ret.pk).status == Status.SHIPPED


def test_the_partner_cancels_its_request(partner_client, stocked, books):
    old, _fresh = books
    ret = request_return(stocked, (old, 2))
    partner_client.post(reverse("operations:return_cancel", args=[ret.pk]))
    assert Operation.objects.get(pk=ret.pk).status == Status.CANCELLED
    assert StockBalance.objects.get(partner=stocked, book=old).reserved == 0


def test_a_recall_is_first_on_the_dashboard_and_cannot_be_cancelled_by_the_partner(
    partner_client, stocked, books, admin_user
):
    old, _fresh = books
    ret = recall(stocked, (old, 1), admin=admin_user, reason="Retired edition")
    page = partner_client.get(reverse("operations:dashboard"))
    assert 'class="alert alert-warning open-recall"' in page.text
    # The first thing to do: above the latest order.
    assert page.text.index("open-recall") < page.text.index('id="latest-order-title"')
    detail = partner_client.get(reverse("operations:return_detail", args=[ret.pk]))
    assert "Cancel this return" not in detail.text and "Parcel shipped" in detail.text
    partner_client.post(reverse("operations:return_cancel", args=[ret.pk]))
    assert Operation.objects.get(pk=ret.pk).status == Status.RECALLED


def test_the_packing_slip_lists_the_copies(partner_client, stocked, books):
    old, _fresh = books
    ret = request_return(stocked, (old, 3))
    slip = partner_client.get(reverse("operations:return_slip", args=[ret.pk]))
    assert slip.status_code == 200
    assert ret.reference in slip.text and old.isbn in slip.text


def test_another_partners_return_is_not_found(client, other_partner, stocked, books):
    old, _fresh = books
    ret = request_return(stocked, (old, 1))
    client.force_login(other_partner.user)
    for name in ["return_detail", "return_slip"]:
        assert client.get(reverse(f"operations:{name}", args=[ret.pk])).status_code == 404
    for name in ["return_ship", "return_cancel"]:
        assert client.post(reverse(f"operations:{name}", args=[ret.pk])).status_code == 404
    assert Operation.objects.get(pk=ret.pk).status == Status.REQUESTED


def test_stock_and_report_pages_show_reserved_copies_and_shortfalls(
    partner_client, stocked, books, admin_user
):
    old, fresh = books
    received = request_return(stocked, (old, 3))
    return_ship(ret=received, by=stocked.user)
    return_receive(ret=received, by=admin_user, receipts=[Receipt(old.pk, 2)])
    request_return(stocked, (fresh, 2))
    stock = partner_client.get(reverse("operations:stock"))
    assert "2 set aside for a return" in stock.text
    assert f"1 copy missing from return {received.reference}" in stock.text
    csv_text = b"".join(partner_client.get(reverse("operations:stock_csv"))).decode()
    assert "Set aside for a return" in csv_text
    report = partner_client.get(reverse("operations:report_new"))
    assert "2 copies set aside for a return" in report.text
    history = partner_client.get(reverse("operations:history"))
    assert reverse("operations:return_detail", args=[received.pk]) in history.text
    assert check_ledger() == []


def test_the_report_form_refuses_selling_reserved_copies(partner_client, stocked, books):
    _old, fresh = books
    request_return(stocked, (fresh, 2))
    page = partner_client.get(reverse("operations:report_new"))
    token = page.context["form"]["token"].value()
    response = partner_client.post(
        reverse("operations:report_new"),
        {"token": token, f"sold_{fresh.pk}": "2", "action": "submit"},
    )
    assert response.status_code == 200
    assert not Operation.objects.reports().filter(items__isnull=False).exists()


def test_the_return_pages_run_the_same_queries_with_10_or_500_titles(
    partner_client, partner, admin_user
):
    from operations.tests.portal_data import grow_history, query_count

    def counts():
        ret = Operation.objects.returns().filter(partner=partner).order_by("-pk").first()
        return (
            query_count(partner_client, NEW),
            query_count(partner_client, reverse("operations:return_detail", args=[ret.pk])),
            query_count(partner_client, reverse("operations:return_slip", args=[ret.pk])),
        )

    def one_return_of_every_title():
        rows = StockBalance.objects.filter(partner=partner, quantity__gt=F("reserved"))
        pairs = [(row.book, 1) for row in rows.select_related("book")]
        request_return(partner, *pairs)

    grow_history(partner, 10, admin=admin_user)
    one_return_of_every_title()
    small = counts()
    grow_history(partner, 500, admin=admin_user)
    one_return_of_every_title()
    big = counts()
    assert small == big
    assert max(big) <= 8
