import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory, SeriesFactory
from operations.tests.factories import delivered_order, submit_report
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

URL = reverse("operations:stock")
CSV_URL = reverse("operations:stock_csv")


@pytest.fixture
def stocked(partner):
    series = SeriesFactory(name="Rougon-Macquart")
    hugo = BookFactory(title="Les Misérables", price=Decimal("12.50"))
    zola = BookFactory(title="Germinal", price=Decimal("9.90"), series=series, volume_number=13)
    sold_out = BookFactory(title="=SUM(A1)", price=Decimal("5.00"))
    delivered_order(partner, (hugo, 4), (zola, 2), (sold_out, 1))
    submit_report(partner, (hugo, 1), (sold_out, 1))
    return hugo, zola, sold_out


def test_stock_lists_every_title_held_with_totals(partner_client, stocked):
    response = partner_client.get(URL)
    body = response.content.decode()
    assert [row["book__title"] for row in response.context["rows"]] == [
        "Germinal",
        "Les Misérables",
    ]
    assert "Rougon-Macquart" in body
    assert "2 titles" in body and "5 copies" in body
    assert "€57.30" in body and "€37.50" in body and "€19.80" in body


def test_stock_of_another_partner_is_not_shown(partner_client, other_partner):
    book = BookFactory(title="Chez Bob")
    delivered_order(other_partner, (book, 3))
    body = partner_client.get(URL).content.decode()
    assert "Chez Bob" not in body
    assert "You hold no copies" in body


def read_csv(response, delimiter=","):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_stock_csv_download(partner_client, stocked):
    response = partner_client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:5] == ["ISBN", "Title", "Authors", "Series", "Copies"]
    assert [(r[1], r[4], r[6]) for r in rows[1:]] == [
        ("Germinal", "2", "19.80"),
        ("Les Misérables", "3", "37.50"),
    ]


def test_stock_csv_defuses_formulas(partner_client, partner):
    book = BookFactory(title="=HYPERLINK(1)")
    delivered_order(partner, (book, 1))
    rows = read_csv(partner_client.get(CSV_URL))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_stock_csv_in_french_opens_in_a_french_spreadsheet(partner_client, stocked):
    response = partner_client.get(CSV_URL, HTTP_ACCEPT_LANGUAGE="fr")
    rows = read_csv(response, delimiter=";")
    assert rows[0][:2] == ["ISBN", "Titre"]
    assert [(r[1], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("Germinal", "2", "9,90", "19,80"),
        ("Les Misérables", "3", "12,50", "37,50"),
    ]


def test_stock_pages_run_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    small = (query_count(partner_client, URL), query_count(partner_client, CSV_URL))
    grow_history(partner, 500, admin=admin_user)
    big = (query_count(partner_client, URL), query_count(partner_client, CSV_URL))
    assert small == big
    assert max(big) <= 6
