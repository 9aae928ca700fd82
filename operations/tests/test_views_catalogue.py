from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory, SeriesFactory
from operations.tests.factories import delivered_order, place_order
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

URL = reverse("operations:catalogue")


@pytest.fixture
def books(db):
    series = SeriesFactory(name="Les Rougon-Macquart")
    return {
        "germinal": BookFactory(
            title="Germinal", authors="Émile Zola", series=series, volume_number=13
        ),
        "assommoir": BookFactory(title="L'Assommoir", authors="Émile Zola", series=series),
        "miserables": BookFactory(
            title="Les Misérables", authors="Victor Hugo", price=Decimal("21.00")
        ),
        "retired": BookFactory(title="Épuisé", authors="Victor Hugo", is_active=False),
    }


def titles(response):
    return [b.title for b in response.context["page"]]


def test_catalogue_lists_active_books_with_price_and_copies_held(partner_client, partner, books):
    delivered_order(partner, (books["germinal"], 3))
    response = partner_client.get(URL)
    body = response.content.decode()
    assert titles(response) == ["Germinal", "L'Assommoir", "Les Misérables"]
    assert "€21.00" in body
    assert "You hold 3" in body
    assert "Épuisé" not in body


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"q": "zola"}, ["Germinal", "L'Assommoir"]),
        ({"q": "misér"}, ["Les Misérables"]),
        ({"q": "rougon"}, ["Germinal", "L'Assommoir"]),
        ({"q": "nothing like it"}, []),
    ],
)
def test_catalogue_search(partner_client, books, params, expected):
    assert titles(partner_client.get(URL, params)) == expected


def test_catalogue_search_by_isbn(partner_client, books):
    isbn = books["miserables"].isbn
    hyphenated = f"{isbn[:3]}-{isbn[3:4]}-{isbn[4:9]}-{isbn[9:12]}-{isbn[12]}"
    assert titles(partner_client.get(URL, {"q": hyphenated})) == ["Les Misérables"]


def test_catalogue_filter_by_series(partner_client, books):
    series = books["germinal"].series
    response = partner_client.get(URL, {"series": series.pk})
    assert titles(response) == ["Germinal", "L'Assommoir"]


@pytest.mark.parametrize(
    "params",
    [
        {"series": "abc"},
        {"series": "999999"},
        {"series": "99999999999999999999999"},
        {"page": "zzz"},
        {"page": "0"},
        {"q": "x" * 500},
    ],
)
def test_garbage_never_fails(partner_client, books, params):
    response = partner_client.get(URL, params)
    assert response.status_code == 200


def test_an_unknown_series_is_reported_next_to_its_field(partner_client, books):
    body = partner_client.get(URL, {"series": "999999"}).content.decode()
    assert 'aria-describedby="id_series-error"' in body


def test_add_to_order_is_offered_only_when_ordering_is_allowed(partner_client, partner, books):
    body = partner_client.get(URL).content.decode()
    assert "Add to order" in body
    order = place_order(partner, (books["germinal"], 1))
    body = partner_client.get(URL).content.decode()
    assert "Add to order" not in body
    assert "waiting for approval" in body
    assert reverse("operations:order_detail", args=[order.pk]) in body


def test_adding_from_the_catalogue_returns_to_it(partner_client, partner, books):
    next_url = URL + "?q=zola"
    response = partner_client.post(
        reverse("operations:order_add"),
        {"book": books["germinal"].pk, "copies": 1, "from": "catalogue", "next": next_url},
    )
    assert response["Location"] == next_url
    body = partner_client.get(next_url).content.decode()
    assert "1 in your order" in body


def test_catalogue_is_paginated_and_htmx_gets_the_results_fragment(
    partner_client, partner, admin_user
):
    grow_history(partner, 45, admin=admin_user)
    response = partner_client.get(URL, {"q": "Titre", "page": 3})
    assert response.context["page"].number == 3
    assert len(response.context["page"].object_list) == 5
    fragment = partner_client.get(
        URL, {"q": "Titre"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalogue-results"
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="catalogue-results"')
    assert "?q=Titre&amp;page=2" in body


def test_catalogue_runs_the_same_queries_with_10_or_500_books(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    small = (query_count(partner_client, URL), query_count(partner_client, URL + "?q=Titre"))
    grow_history(partner, 500, admin=admin_user)
    big = (query_count(partner_client, URL), query_count(partner_client, URL + "?q=Titre"))
    assert small == big
    assert max(big) <= 12
