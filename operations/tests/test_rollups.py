"""The stock and sales rollups: kept by the services in the same transaction as the balance,
equal to the ledger after each of them, rebuilt from it, and read by the back office in a
number of queries that does not grow with the rows."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.balances import balances_rebuild
from operations.clock import backdated
from operations.ledger import _rollups_match_ledger, check_ledger
from operations.management.commands.benchmark import build_ledger
from operations.models import (
    BookSalesMonth,
    BookStockTotal,
    PartnerBookSalesMonth,
    PartnerSalesMonth,
    PartnerStockTotal,
)
from operations.returns import Receipt, return_receive, return_ship
from operations.services import report_void
from operations.tests.factories import delivered_order, request_return, submit_report

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
STOCK = reverse("admin:operations_stock")
ANALYTICS = reverse("admin:operations_analytics")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book_total(book) -> tuple:
    row = BookStockTotal.objects.get(book=book)
    return (row.held, row.reserved, row.delivered, row.sold, row.partners)


def month_of(partner, month: date) -> tuple:
    row = PartnerSalesMonth.objects.get(partner=partner, month=month)
    return (row.delivered, row.sold, row.revenue, row.returned, row.damaged)


def test_every_service_keeps_the_rollups_equal_to_the_ledger(admin_user, partner, other_partner):
    nana = BookFactory(price=Decimal("10.00"))
    germinal = BookFactory(price=Decimal("8.50"))
    with backdated(paris(2025, 1, 10, 9)):
        delivered_order(partner, (nana, 5), (germinal, 2), admin=admin_user)
        delivered_order(other_partner, (nana, 1), admin=admin_user)
    assert book_total(nana) == (6, 0, 6, 0, 2)
    assert PartnerStockTotal.objects.get(partner=partner).titles == 2

    # 1 March 00:30 in Paris is still February in UTC: the month is the local one.
    with backdated(paris(2025, 3, 1, 0, 30)):
        report = submit_report(partner, (nana, 2), (germinal, 2))
    assert book_total(germinal) == (0, 0, 2, 2, 0)  # sold out: no partner holds it
    assert PartnerStockTotal.objects.get(partner=partner).titles == 1
    assert month_of(partner, date(2025, 3, 1)) == (0, 4, Decimal("37.00"), 0, 0)
    assert BookSalesMonth.objects.get(book=nana, month=date(2025, 3, 1)).sold == 2
    assert not PartnerSalesMonth.objects.filter(month=date(2025, 2, 1)).exists()

    with backdated(paris(2025, 4, 2, 9)):
        report_void(report=report, by=admin_user, reason="Typo")
    # The void takes the report back out of its own month.
    assert month_of(partner, date(2025, 3, 1)) == (0, 0, Decimal("0.00"), 0, 0)
    assert book_total(germinal) == (2, 0, 2, 0, 1)
    assert PartnerBookSalesMonth.objects.get(partner=partner, book=nana).sold == 0

    ret = request_return(partner, (nana, 3))
    assert book_total(nana)[1] == 3
    return_ship(ret=ret, by=partner.user)
    with backdated(paris(2025, 5, 5, 9)):
        return_receive(
            ret=ret, by=admin_user, receipts=[Receipt(book_id=nana.pk, received=2, damaged=1)]
        )
    assert book_total(nana) == (4, 0, 6, 0, 2)
    assert month_of(partner, date(2025, 5, 1)) == (0, 0, Decimal("0.00"), 2, 1)
    assert list(_rollups_match_ledger()) == []
    assert check_ledger() == []


def test_the_ledger_check_names_a_damaged_rollup_and_the_rebuild_mends_it(admin_user, partner):
    book = BookFactory(price=Decimal("10.00"))
    delivered_order(partner, (book, 3), admin=admin_user)
    submit_report(partner, (book, 1))
    BookStockTotal.objects.filter(book=book).update(held=99)
    PartnerSalesMonth.objects.update(revenue=Decimal("1.00"))
    BookSalesMonth.objects.all().delete()
    violations = [str(v) for v in check_ledger()]
    assert any("[stock_per_book]" in v and "held is 99" in v for v in violations)
    assert any("[sales_per_month]" in v and "revenue is 1.00" in v for v in violations)
    assert any("[sales_per_month]" in v and "no row" in v for v in violations)
    balances_rebuild()
    assert check_ledger() == []


# -- the pages read the rollups: the same queries for 10 rows or 500 ---------------------------


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


PAGES = [
    (STOCK, {}),
    (STOCK, {"by": "partner"}),
    (STOCK, {"by": "partner", "sort": "copies"}),
    (STOCK, {"by": "book", "sort": "value", "q": "Bench"}),
    (ANALYTICS, {}),
]


@pytest.mark.parametrize("rows", [10, 500])
def test_the_stock_and_analytics_pages_run_the_same_queries_for_10_or_500_rows(admin_client, rows):
    build_ledger(rows, rows, 2, min(rows, 25))
    _queries(admin_client, ANALYTICS, {})  # the month's first read rolls the twelve months
    counts = [_queries(admin_client, url, params) for url, params in PAGES]
    assert counts == [7, 7, 7, 7, 11]
    assert list(_rollups_match_ledger()) == []


def test_stock_rows_sort_largest_first_and_search_their_own_subject(admin_client, partner):
    small, large = BookFactory(title="Au bonheur"), BookFactory(title="Zadig")
    delivered_order(partner, (small, 1), (large, 7))
    rows = admin_client.get(STOCK, {"sort": "copies"}).context["rows"]
    assert [(r.label, r.copies) for r in rows] == [("Zadig", 7), ("Au bonheur", 1)]
    rows = admin_client.get(STOCK, {"q": "zadig"}).context["rows"]
    assert [r.label for r in rows] == ["Zadig"]
    response = admin_client.get(STOCK, {"by": "partner", "q": partner.store_name[:4]})
    assert [(r.label, r.copies, r.spread) for r in response.context["rows"]] == [
        (partner.store_name, 8, 2)
    ]
    assert not response.context["priced"]  # a page of partners is not priced per row
    assert response.context["summary"]["copies"] == 8
    response = admin_client.get(STOCK, {"sort": "nonsense"})
    assert response.status_code == 200
