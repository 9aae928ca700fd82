from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Book
from catalog.tests.factories import BookFactory, SeriesFactory
from operations.tests.factories import delivered_order, submit_report

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_book_changelist")


@pytest.fixture
def books(db):
    series = SeriesFactory(name="Les Rougon-Macquart")
    return {
        "nana": BookFactory(
            title="Nana", authors="Émile Zola", isbn="9782070368228", series=series
        ),
        "bovary": BookFactory(title="Madame Bovary", authors="Gustave Flaubert", is_active=False),
        "series": series,
    }


def shown(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return set(response.context["cl"].queryset)


@pytest.mark.parametrize(
    "query", ["Nana", "zola", "9782070368228", "978-2-07-036822-8", "2-07-036822-X", "2070368228"]
)
def test_book_search_by_title_author_and_isbn_with_or_without_hyphens(admin_client, books, query):
    assert books["nana"] in shown(admin_client, q=query)
    assert books["bovary"] not in shown(admin_client, q=query)


def test_book_filters_by_series_and_active(admin_client, books):
    assert shown(admin_client, series__id__exact=books["series"].pk) == {books["nana"]}
    assert shown(admin_client, is_active__exact="0") == {books["bovary"]}


def test_book_change_page_shows_copies_held_per_partner(
    admin_client, books, partner, other_partner
):
    nana = books["nana"]
    delivered_order(partner, (nana, 4))
    submit_report(partner, (nana, 1))
    delivered_order(other_partner, (nana, 2))
    response = admin_client.get(reverse("admin:catalog_book_change", args=[nana.pk]))
    assert response.status_code == 200
    table = response.text.split('id="book-stock"', 1)[1].split("</table>", 1)[0]
    assert "Alice Livres" in table and "Bob Bouquins" in table
    assert "<td>3</td>" in table and "<td>2</td>" in table
    assert "stock_by_partner" not in response.context["adminform"].form.fields


def test_a_book_in_history_cannot_be_deleted_but_a_fresh_one_can(admin_client, books, partner):
    delivered_order(partner, (books["nana"], 1))
    nana_delete = reverse("admin:catalog_book_delete", args=[books["nana"].pk])
    assert admin_client.post(nana_delete, {"post": "yes"}).status_code == 403
    bovary_delete = reverse("admin:catalog_book_delete", args=[books["bovary"].pk])
    assert admin_client.post(bovary_delete, {"post": "yes"}).status_code == 302
    assert not Book.objects.filter(pk=books["bovary"].pk).exists()


def test_admin_adds_a_book_with_a_hyphenated_isbn(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_book_add"),
        {
            "isbn": "978-2-07-036822-8",
            "title": "Nana",
            "authors": "Émile Zola",
            "price": "9.90",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Book.objects.get().isbn == "9782070368228"
    assert Book.objects.get().price == Decimal("9.90")


def test_series_list_counts_books(admin_client, books):
    response = admin_client.get(reverse("admin:catalog_series_changelist"))
    assert response.status_code == 200
    assert "Les Rougon-Macquart" in response.text
