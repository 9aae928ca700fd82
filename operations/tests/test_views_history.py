from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.services import order_cancel
from operations.tests.factories import delivered_order, place_order, submit_report
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

URL = reverse("operations:history")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"))


@pytest.fixture
def history(partner, book):
    """An old delivered order, a report, a cancelled order and a pending one, oldest first."""
    now = timezone.now()
    delivered = delivered_order(partner, (book, 4))
    report = submit_report(partner, (book, 1))
    cancelled = place_order(partner, (book, 1))
    order_cancel(order=cancelled, by=partner.user)
    pending = place_order(partner, (book, 2))
    # Spread them over time so date filters have something to separate.
    for days, op in ((40, delivered), (30, report), (20, cancelled), (1, pending)):
        type(op).objects.filter(pk=op.pk).update(created_at=now - timedelta(days=days))
    return {"delivered": delivered, "report": report, "cancelled": cancelled, "pending": pending}


def refs(response):
    return [op.reference for op in response.context["page"]]


def test_history_lists_orders_and_reports_newest_first(partner_client, history):
    response = partner_client.get(URL)
    assert refs(response) == [
        history[k].reference for k in ("pending", "cancelled", "report", "delivered")
    ]
    body = response.content.decode()
    assert reverse("operations:order_detail", args=[history["pending"].pk]) in body
    assert reverse("operations:report_detail", args=[history["report"].pk]) in body
    assert "€50.00" in body


def test_history_shows_only_the_partners_own_operations(
    partner_client, other_partner, history, book
):
    theirs = place_order(other_partner, (book, 1))
    assert theirs.reference not in refs(partner_client.get(URL))


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"kind": "report"}, ["report"]),
        ({"kind": "order"}, ["pending", "cancelled", "delivered"]),
        ({"status": "cancelled"}, ["cancelled"]),
        ({"kind": "order", "status": "pending"}, ["pending"]),
        ("date_from", ["pending", "cancelled"]),
        ("date_to", ["report", "delivered"]),
    ],
)
def test_history_filters(partner_client, history, params, expected):
    today = timezone.localdate()
    if params == "date_from":
        params = {"date_from": (today - timedelta(days=25)).isoformat()}
    elif params == "date_to":
        params = {"date_to": (today - timedelta(days=25)).isoformat()}
    response = partner_client.get(URL, params)
    assert refs(response) == [history[k].reference for k in expected]


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "nonsense"},
        {"status": "<script>"},
        {"date_from": "yesterday"},
        {"date_to": "2026-13-45"},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
    ],
)
def test_garbage_filters_never_fail(partner_client, history, params):
    response = partner_client.get(URL, params)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split('id="history-results"')[1]


def test_a_bad_date_is_reported_next_to_its_field(partner_client, history):
    body = partner_client.get(URL, {"date_from": "yesterday"}).content.decode()
    assert 'aria-describedby="id_date_from-error"' in body


def test_htmx_filtering_returns_the_results_fragment(partner_client, history):
    response = partner_client.get(
        URL, {"kind": "report"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="history-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="history-results"')
    assert history["report"].reference in body
    assert history["pending"].reference not in body


def test_each_row_sums_its_own_lines_and_the_count_reads_none(partner_client, partner, book):
    other = BookFactory(title="Germinal", price=Decimal("8.00"))
    order = delivered_order(partner, (book, 3), (other, 2))
    report = submit_report(partner, (book, 1), (other, 2))
    with CaptureQueriesContext(connection) as queries:
        response = partner_client.get(URL)
    rows = {op.pk: (op.copies, op.amount) for op in response.context["page"]}
    assert rows == {
        order.pk: (5, Decimal("53.50")),  # 3 × 12.50 + 2 × 8.00
        report.pk: (3, Decimal("28.50")),  # sold lines count as copies, not as -3
    }
    [count] = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert "operations_item" not in count and "GROUP BY" not in count


def test_history_is_paginated_and_pages_keep_the_filters(partner_client, partner, admin_user):
    grow_history(partner, 45, admin=admin_user)
    response = partner_client.get(URL, {"kind": "order"})
    page = response.context["page"]
    assert page.paginator.count == 23
    assert len(page.object_list) == 20
    assert "?kind=order&amp;page=2" in response.content.decode()
    second = partner_client.get(URL, {"kind": "order", "page": 2})
    assert len(second.context["page"].object_list) == 3


def test_history_runs_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    url = URL + "?kind=report"
    small = (query_count(partner_client, URL), query_count(partner_client, url))
    grow_history(partner, 500, admin=admin_user)
    assert (query_count(partner_client, URL), query_count(partner_client, url)) == small
    assert max(small) <= 8


def test_page_and_fragment_are_cached_apart(partner_client, history):
    response = partner_client.get(URL)
    assert "HX-Request" in response["Vary"]
