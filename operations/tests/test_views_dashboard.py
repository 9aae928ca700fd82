from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory
from catalog.tests.factories import BookFactory
from operations.models import Notification
from operations.services import order_approve, order_reject
from operations.tests.factories import delivered_order, place_order, submit_report
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

URL = reverse("operations:dashboard")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"))


def notice(partner, operation, event):
    return Notification.objects.create(recipient=partner.user, operation=operation, event=event)


def test_a_new_partner_is_told_it_can_order(partner_client):
    body = partner_client.get(URL).content.decode()
    assert "You can order" in body
    assert reverse("operations:order_new") in body
    assert "No order yet" in body and "No sales report yet" in body


def test_with_a_pending_order_the_dashboard_says_so_and_links_to_it(partner_client, partner, book):
    order = place_order(partner, (book, 2))
    body = partner_client.get(URL).content.decode()
    assert "waiting for approval" in body
    assert reverse("operations:order_detail", args=[order.pk]) in body
    assert reverse("operations:order_cancel", args=[order.pk]) in body
    assert "Pending" in body


def test_after_a_delivery_the_dashboard_asks_for_a_report(partner_client, partner, book):
    delivered_order(partner, (book, 4))
    body = partner_client.get(URL).content.decode()
    assert "Report your sales since the delivery" in body
    assert reverse("operations:report_new") in body
    assert "Delivered on" in body


def test_stock_figures_and_last_report(partner_client, partner, book):
    delivered_order(partner, (book, 4))
    report = submit_report(partner, (book, 1))
    response = partner_client.get(URL)
    body = response.content.decode()
    figures = response.context["figures"]
    assert (figures.stock_titles, figures.stock_copies) == (1, 3)
    assert "€37.50" in body
    assert report.reference in body
    assert "25%" in body


def test_the_live_part_polls_and_comes_back_as_a_fragment(partner_client, partner, book, settings):
    settings.PORTAL_POLL_SECONDS = 7
    order = place_order(partner, (book, 1))
    assert 'hx-trigger="every 7s"' in partner_client.get(URL).content.decode()
    order_approve(order=order, by=AdminUserFactory())
    response = partner_client.get(URL, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard-live"')
    assert "<html" not in body
    assert "approved and on its way" in body


def test_notices_are_shown_in_plain_words(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    Notification.objects.filter(recipient=partner.user).delete()
    order_reject(order=order, by=AdminUserFactory(), reason="Titre épuisé")
    Notification.objects.filter(recipient=partner.user).delete()
    notice(partner, order, Notification.Event.ORDER_REJECTED)
    body = partner_client.get(URL).content.decode()
    assert f"Your order {order.reference} was rejected." in body
    assert "Titre épuisé" in body


def test_marking_a_notice_as_read(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    Notification.objects.filter(recipient=partner.user).delete()
    n = notice(partner, order, Notification.Event.ORDER_APPROVED)
    url = reverse("operations:notification_read", args=[n.pk])
    assert partner_client.get(url).status_code == 405
    n.refresh_from_db()
    assert n.read_at is None
    response = partner_client.post(url)
    assert response.status_code == 302
    n.refresh_from_db()
    assert n.read_at is not None
    assert "is approved" not in partner_client.get(URL).content.decode()


def test_marking_as_read_with_htmx_returns_the_live_fragment(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    n = notice(partner, order, Notification.Event.ORDER_APPROVED)
    response = partner_client.post(
        reverse("operations:notification_read", args=[n.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.content.decode().lstrip().startswith('<div id="dashboard-live"')


def test_mark_all_as_read(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    notice(partner, order, Notification.Event.ORDER_APPROVED)
    notice(partner, order, Notification.Event.ORDER_DELIVERED)
    partner_client.post(reverse("operations:notifications_read_all"))
    assert not Notification.objects.filter(recipient=partner.user, read_at__isnull=True).exists()


def test_another_persons_notice_cannot_be_marked(partner_client, other_partner, book):
    order = place_order(other_partner, (book, 1))
    n = notice(other_partner, order, Notification.Event.ORDER_APPROVED)
    for pk in (n.pk, 999999):
        url = reverse("operations:notification_read", args=[pk])
        assert partner_client.post(url).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_a_read_notice_stays_read(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    when = timezone.now() - timezone.timedelta(days=2)
    n = Notification.objects.create(
        recipient=partner.user, operation=order, event="order_approved", read_at=when
    )
    partner_client.post(reverse("operations:notification_read", args=[n.pk]))
    n.refresh_from_db()
    assert n.read_at == when


def test_dashboard_runs_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    small = query_count(partner_client, URL)
    small_fragment = query_count(partner_client, URL, HTTP_HX_REQUEST="true")
    grow_history(partner, 500, admin=admin_user)
    assert query_count(partner_client, URL) == small
    assert query_count(partner_client, URL, HTTP_HX_REQUEST="true") == small_fragment
    assert small <= 17  # 15, and the account's totals and open invoices (two queries)


def test_what_to_do_next_comes_first_and_only_the_three_newest_notices_show(
    partner_client, partner, book, admin_user
):
    orders = []
    for _ in range(3):
        order = delivered_order(partner, (book, 1), admin=admin_user)
        submit_report(partner)
        orders.append(order)
    # 3 orders x (approved + delivered) = 6 unread notices
    content = partner_client.get(reverse("operations:dashboard")).content.decode()
    assert content.index("next-step-title") < content.index("notices-title")
    assert content.count('class="list-group-item d-flex') == 3
    assert "6 unread notices in all." in content
