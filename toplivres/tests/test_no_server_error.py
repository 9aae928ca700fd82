"""Tampered or absurd input gets an answer, never a server error (rule 9), on SQLite and
PostgreSQL alike."""

import pytest
from django.urls import reverse

from catalog.models import Book
from catalog.tests.factories import BookFactory, SeriesFactory
from operations.tests.factories import place_order

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


@pytest.mark.parametrize("value", ["abc", "0", "🦊", "//evil.example", "https://evil.example/"])
def test_adding_a_book_with_any_next_value_redirects_on_the_site(partner_client, value):
    book = BookFactory()
    response = partner_client.post(
        reverse("operations:order_add"), {"book": book.pk, "copies": 1, "next": value}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("operations:order_new")


def test_a_good_next_path_is_followed(partner_client):
    book = BookFactory()
    response = partner_client.post(
        reverse("operations:order_add"), {"book": book.pk, "copies": 1, "next": "/catalogue/?q=a"}
    )
    assert response["Location"] == "/catalogue/?q=a"


@pytest.mark.parametrize("q", ["\x00", "a\x00b", "%00"])
def test_a_search_with_a_nul_character_answers(partner_client, q):
    response = partner_client.get(reverse("operations:order_new"), {"q": q})
    assert response.status_code == 200
    response = partner_client.get(reverse("operations:order_new"), {"q": q}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert partner_client.get(reverse("operations:catalogue"), {"q": q}).status_code == 200


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("admin:operations_operation_changelist", {"kind__exact": "\x00"}),
        ("admin:operations_operation_changelist", {"status__exact": "a\x00b"}),
        ("admin:operations_operation_changelist", {"q": "\x00"}),
        ("admin:accounts_partner_changelist", {"city": "\x00"}),
        ("admin:accounts_partner_changelist", {"q": "x\x00"}),
        ("admin:operations_notification_changelist", {"event__exact": "\x00"}),
        ("admin:catalog_book_changelist", {"q": "\x00"}),
        ("admin:operations_stock", {"q": "\x00"}),
    ],
)
def test_admin_filters_with_a_nul_character_answer(admin_client, url, params):
    assert admin_client.get(reverse(url), params).status_code in (200, 302)


@pytest.mark.parametrize("year", ["9999", "10000", HUGE, "-1", "abc"])
@pytest.mark.parametrize(
    "url", ["admin:operations_operation_changelist", "admin:operations_operation_export"]
)
def test_a_date_drill_down_past_year_9999_answers(admin_client, url, year):
    response = admin_client.get(reverse(url), {"created_at__year": year})
    assert response.status_code in (200, 302)
    response = admin_client.get(
        reverse(url), {"created_at__year": "2026", "created_at__month": HUGE}
    )
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("series", ["abc", HUGE, "-1", "1.5", "\x00"])
def test_the_book_form_with_a_bad_series_shows_an_error(admin_client, series):
    SeriesFactory()
    data = {
        "isbn": "9782070368228",
        "title": "Nana",
        "authors": "Zola",
        "series": series,
        "volume_number": "",
        "price": "10.00",
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:catalog_book_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["series"]
    assert not Book.objects.exists()


@pytest.mark.parametrize("pk", [HUGE, str(2**63), "-" + HUGE])
def test_an_admin_action_on_a_huge_id_is_refused(admin_client, partner, pk):
    place_order(partner, (BookFactory(), 1))
    response = admin_client.post(
        reverse("admin:operations_operation_changelist"),
        {"action": "approve", "_selected_action": [pk]},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("group", [HUGE, "\x00", "abc"])
def test_a_bad_key_in_a_many_to_many_field_is_an_invalid_choice(admin_client, admin_user, group):
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    data = {
        "email": admin_user.email,
        "full_name": "Ada",
        "language": "fr",
        "is_active": "on",
        "is_staff": "on",
        "groups": [group],
        "last_login_0": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"]


@pytest.mark.parametrize("pk", ["\x00", HUGE])
def test_a_third_party_admin_action_on_a_bad_id_is_refused(admin_client, pk):
    response = admin_client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [pk]},
    )
    assert response.status_code == 302
