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
    assert rows[0][5] == "Set aside for a return"
    assert [(r[1], r[4], r[7]) for r in rows[1:]] == [
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
    assert [(r[1], r[4], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("Germinal", "2", "0", "9,90", "19,80"),
        ("Les Misérables", "3", "0", "12,50", "37,50"),
    ]


def test_stock_pages_run_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    small = (query_count(partner_client, URL), query_count(partner_client, CSV_URL))
    grow_history(partner, 500, admin=admin_user)
    big = (query_count(partner_client, URL), query_count(partner_client, CSV_URL))
    assert small == big
    assert max(big) <= 7


# -- pages, search and sort -----------------------------------------------------------------


@pytest.fixture
def shelf_of_60(partner, admin_user):
    """Alice holds 60 titles (Titre 01-0000 … 0059, 5 copies each; one sold of the first)."""
    grow_history(partner, 60, admin=admin_user)


def titles(response):
    return [row["book__title"] for row in response.context["rows"]]


def test_stock_shows_50_titles_a_page_with_links_to_the_next(partner_client, shelf_of_60):
    first = partner_client.get(URL)
    assert len(titles(first)) == 50
    assert "1–50 of 60 titles" in first.text
    assert 'href="?page=2"' in first.text
    second = partner_client.get(URL, {"page": "2"})
    assert len(titles(second)) == 10
    assert not set(titles(first)) & set(titles(second))
    assert partner_client.get(URL, {"page": "99"}).context["page"].number == 2


def test_stock_search_by_title_series_or_isbn(partner_client, stocked):
    hugo, zola, _sold_out = stocked
    assert titles(partner_client.get(URL, {"q": "misér"})) == ["Les Misérables"]
    assert titles(partner_client.get(URL, {"q": "rougon"})) == ["Germinal"]
    hyphenated = f"{zola.isbn[:3]}-{zola.isbn[3:]}"
    assert titles(partner_client.get(URL, {"q": hyphenated})) == ["Germinal"]
    response = partner_client.get(URL, {"q": "nothing like it"})
    assert titles(response) == [] and "No title you hold matches this search." in response.text
    assert "2 titles" in response.text  # the totals stay those of the whole stock


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("title", ["Germinal", "Les Misérables"]),
        ("-title", ["Les Misérables", "Germinal"]),
        ("-copies", ["Les Misérables", "Germinal"]),
        ("copies", ["Germinal", "Les Misérables"]),
        ("-sale", ["Les Misérables", "Germinal"]),
        ("sale", ["Germinal", "Les Misérables"]),
        ("nonsense", ["Germinal", "Les Misérables"]),
    ],
)
def test_stock_sorts(partner_client, stocked, sort, expected):
    assert titles(partner_client.get(URL, {"o": sort})) == expected


def test_stock_sort_by_last_delivery(partner_client, partner, stocked):
    late = BookFactory(title="Arrivé hier")
    delivered_order(partner, (late, 1))
    assert titles(partner_client.get(URL, {"o": "-delivery"}))[0] == "Arrivé hier"
    assert titles(partner_client.get(URL, {"o": "delivery"}))[-1] == "Arrivé hier"


def test_a_column_header_sorts_and_says_how(partner_client, stocked):
    body = partner_client.get(URL, {"o": "-copies"}).text
    assert 'aria-sort="descending"' in body
    assert 'href="?o=copies"' in body  # pressing it again turns the order round


def test_htmx_gets_the_results_fragment_with_the_sort_menu_out_of_band(partner_client, stocked):
    response = partner_client.get(
        URL, {"q": "germ", "o": "-copies"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stock-results"
    )
    body = response.text
    assert body.lstrip().startswith('<div id="stock-results"')
    assert "<html" not in body and "Germinal" in body and "Les Misérables" not in body
    assert 'id="id_o" class="form-select" hx-swap-oob="true"' in body
    assert response["Vary"].count("HX-Request")


def test_the_export_keeps_every_title_whatever_the_page_shows(partner_client, shelf_of_60):
    rows = read_csv(partner_client.get(CSV_URL, {"q": "zzz", "page": "2"}))
    assert len(rows) == 61


def test_a_partner_searching_never_finds_another_partners_stock(
    partner_client, other_partner, stocked
):
    bob_book = BookFactory(title="Germinal, édition de Bob")
    delivered_order(other_partner, (bob_book, 2))
    assert titles(partner_client.get(URL, {"q": "germinal"})) == ["Germinal"]


def test_stock_search_sort_and_pages_run_the_same_queries_with_10_or_500_rows(
    partner_client, partner, admin_user
):
    urls = [URL + "?q=titre&o=-sale&page=2", URL + "?o=-copies", URL + "?page=3"]
    grow_history(partner, 10, admin=admin_user)
    small = [query_count(partner_client, url) for url in urls]
    grow_history(partner, 500, admin=admin_user)
    big = [query_count(partner_client, url) for url in urls]
    assert small == big
    assert max(big) <= 8
