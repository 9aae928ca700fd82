import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory, SeriesFactory
from operations.analytics import (
    StockFilters,
    order_desk,
    partners_awaiting_report,
    stock_per_book,
    stock_per_partner,
)
from operations.services import order_approve
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

STOCK = reverse("admin:operations_stock")


@pytest.fixture
def shelves(partner, other_partner):
    """alice holds 3 Nana + 1 Germinal; bob holds 2 Nana (sold out of Germinal)."""
    series = SeriesFactory(name="Rougon-Macquart")
    nana = BookFactory(title="Nana", authors="Émile Zola", series=series, price=Decimal("10.00"))
    germinal = BookFactory(title="Germinal", price=Decimal("8.50"), isbn="9782070368228")
    delivered_order(partner, (nana, 5), (germinal, 1))
    submit_report(partner, (nana, 2))
    delivered_order(other_partner, (nana, 2), (germinal, 1))
    submit_report(other_partner, (germinal, 1))
    return {"nana": nana, "germinal": germinal, "series": series}


def test_stock_per_book_counts_copies_value_and_holders(shelves, partner, other_partner):
    rows = {row.label: row for row in stock_per_book(StockFilters())}
    assert rows["Nana"].copies == 5
    assert rows["Nana"].value == Decimal("50.00")
    assert rows["Nana"].spread == 2
    assert rows["Germinal"].copies == 1
    assert rows["Germinal"].spread == 1  # bob sold his only copy


def test_stock_per_partner_and_filters(shelves, partner, other_partner):
    rows = {row.label: row for row in stock_per_partner(StockFilters())}
    assert rows["Alice Livres"].copies == 4
    assert rows["Alice Livres"].value == Decimal("38.50")
    assert rows["Alice Livres"].spread == 2
    assert rows["Bob Bouquins"].copies == 2

    by_series = stock_per_book(StockFilters(series_id=shelves["series"].pk))
    assert [r.label for r in by_series] == ["Nana"]
    by_partner = stock_per_book(StockFilters(partner_id=other_partner.pk))
    assert [(r.label, r.copies) for r in by_partner] == [("Nana", 2)]
    by_isbn = stock_per_book(StockFilters(query="978-2-07-036822-8"))
    assert [r.label for r in by_isbn] == ["Germinal"]
    holders = stock_per_partner(StockFilters(book_id=shelves["germinal"].pk))
    assert [r.label for r in holders] == ["Alice Livres"]


def test_order_desk_and_partners_awaiting_a_report(admin_user, partner, other_partner):
    book = BookFactory()
    delivered_order(partner, (book, 2))
    order = place_order(other_partner, (book, 1))
    assert list(partners_awaiting_report()) == [partner]
    desk = order_desk()
    assert (desk.pending, desk.approved, desk.awaiting_report) == (1, 0, 1)
    order_approve(order=order, by=admin_user)
    submit_report(partner)  # nothing sold still counts as a report
    desk = order_desk()
    assert (desk.pending, desk.approved, desk.awaiting_report) == (0, 1, 0)


def test_stock_view_lists_books_and_drills_down_per_partner(admin_client, shelves):
    response = admin_client.get(STOCK)
    assert response.status_code == 200
    assert [r.label for r in response.context["rows"]] == ["Germinal", "Nana"]
    assert response.context["summary"] == {"copies": 6, "value": Decimal("58.50")}
    assert "admin/base_site.html" in [t.name for t in response.templates]

    response = admin_client.get(STOCK, {"by": "partner", "book": shelves["nana"].pk})
    assert [(r.label, r.copies) for r in response.context["rows"]] == [
        ("Alice Livres", 3),
        ("Bob Bouquins", 2),
    ]


def test_stock_view_per_partner_drills_down_per_book(admin_client, shelves, partner):
    response = admin_client.get(STOCK, {"by": "partner"})
    assert [r.label for r in response.context["rows"]] == ["Alice Livres", "Bob Bouquins"]
    assert f"partner={partner.pk}" in response.text
    response = admin_client.get(STOCK, {"by": "book", "partner": partner.pk})
    assert [(r.label, r.copies) for r in response.context["rows"]] == [
        ("Germinal", 1),
        ("Nana", 3),
    ]


def test_stock_view_filters_by_series_and_search(admin_client, shelves):
    response = admin_client.get(STOCK, {"series": shelves["series"].pk})
    assert [r.label for r in response.context["rows"]] == ["Nana"]
    response = admin_client.get(STOCK, {"q": "germ"})
    assert [r.label for r in response.context["rows"]] == ["Germinal"]


def test_stock_csv_exports_what_is_shown(admin_client, shelves, partner):
    response = admin_client.get(STOCK, {"by": "book", "partner": partner.pk, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Book", "ISBN", "Partners", "Copies", "Retail value"]
    assert [(r[0], r[3], r[4]) for r in rows[1:]] == [
        ("Germinal", "1", "8.50"),
        ("Nana", "3", "30.00"),
    ]

    response = admin_client.get(STOCK, {"by": "partner", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == ["Alice Livres", "Bob Bouquins"]


def test_stock_view_page_links_to_its_csv(admin_client, shelves):
    response = admin_client.get(STOCK, {"q": "nana"})
    assert "q=nana&amp;format=csv" in response.text


def _stock_queries(admin_client, **params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(STOCK, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_stock_view_pages_its_rows_and_totals_every_page(admin_client, partner, monkeypatch):
    from operations.admin import stock as stock_admin

    monkeypatch.setattr(stock_admin, "STOCK_PAGE_SIZE", 2)
    books = [BookFactory(title=f"Titre {n}", price=Decimal("10.00")) for n in range(5)]
    delivered_order(partner, *[(book, 1) for book in books])
    first = admin_client.get(STOCK)
    assert [row.label for row in first.context["rows"]] == ["Titre 0", "Titre 1"]
    assert first.context["summary"] == {"copies": 5, "value": Decimal("50.00")}
    assert "page 1 of 3" in first.text
    last = admin_client.get(STOCK, {"page": "3"})
    assert [row.label for row in last.context["rows"]] == ["Titre 4"]
    assert last.context["summary"]["copies"] == 5
    # The CSV has every row, whatever the page.
    response = admin_client.get(STOCK, {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 5


def test_stock_view_runs_the_same_queries_with_few_or_many_holders(admin_client, admin_user):
    from accounts.tests.factories import PartnerFactory

    book = BookFactory()
    few = [PartnerFactory() for _ in range(2)]
    for partner in few:
        delivered_order(partner, (book, 1), admin=admin_user)
    small = (_stock_queries(admin_client), _stock_queries(admin_client, by="partner"))
    for partner in [PartnerFactory() for _ in range(60)]:
        delivered_order(partner, (book, 1), admin=admin_user)
    large = (_stock_queries(admin_client), _stock_queries(admin_client, by="partner"))
    assert small == large


def test_the_order_desk_does_not_count_a_suspended_partner_as_owing_a_report(admin_user, partner):
    from accounts.services import partner_suspend

    delivered_order(partner, (BookFactory(), 2))
    assert order_desk().awaiting_report == 1
    partner_suspend(partner=partner, by=admin_user, reason="Closed for the summer")
    assert order_desk().awaiting_report == 0
