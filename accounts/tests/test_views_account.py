from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Partner, User

pytestmark = pytest.mark.django_db

URL = reverse("accounts:account")
LANGUAGE_URL = reverse("accounts:language")

DETAILS = {
    "store_name": "Alice Livres & Cie",
    "contact_name": "Alice Martin",
    "address": "3 rue des Lilas",
    "postal_code": "69001",
    "city": "Lyon",
    "phone": "04 00 00 00 00",
}


def test_account_page_shows_the_store_details_and_links(partner_client, partner):
    body = partner_client.get(URL).content.decode()
    assert partner.store_name in body
    assert 'name="store_name"' in body and 'name="phone"' in body
    assert 'name="commission_rate"' not in body
    assert reverse("password_change") in body
    assert 'name="language"' in body


def test_saving_the_store_details(partner_client, partner):
    response = partner_client.post(URL, DETAILS)
    assert response.status_code == 302
    partner.refresh_from_db()
    for field, value in DETAILS.items():
        assert getattr(partner, field) == value


def test_commission_and_suspension_cannot_be_set_from_the_portal(partner_client, partner):
    partner_client.post(
        URL, {**DETAILS, "commission_rate": "99", "suspended_at": "2020-01-01T00:00:00Z"}
    )
    partner.refresh_from_db()
    assert partner.commission_rate == Decimal("35")
    assert partner.suspended_at is None


def test_saving_details_does_not_undo_a_change_made_meanwhile(partner_client, partner):
    # An admin changes the commission after the partner's row was read for the form.
    Partner.objects.filter(pk=partner.pk).update(commission_rate=Decimal("40"))
    partner_client.post(URL, DETAILS)
    partner.refresh_from_db()
    assert partner.commission_rate == Decimal("40")
    assert partner.city == "Lyon"


@pytest.mark.parametrize(
    "change, field",
    [({"store_name": ""}, "store_name"), ({"postal_code": "x" * 30}, "postal_code")],
)
def test_invalid_details_are_refused_next_to_their_field(partner_client, partner, change, field):
    before = partner.store_name
    response = partner_client.post(URL, {**DETAILS, **change})
    assert response.status_code == 200
    assert response.context["details_form"].errors[field]
    assert f'id="id_{field}"' in response.content.decode()
    assert "is-invalid" in response.content.decode()
    partner.refresh_from_db()
    assert partner.store_name == before


def test_changing_the_language_saves_it_and_sets_the_cookie(partner_client, partner):
    response = partner_client.post(LANGUAGE_URL, {"language": "en"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    partner.user.refresh_from_db()
    assert partner.user.language == "en"
    response = partner_client.post(LANGUAGE_URL, {"language": "fr"}, follow=True)
    assert User.objects.get(pk=partner.user.pk).language == "fr"
    assert "Mon compte" in response.content.decode() or "Langue" in response.content.decode()


@pytest.mark.parametrize("language", ["de", "", "<script>"])
def test_an_unknown_language_is_refused(partner_client, partner, language):
    response = partner_client.post(LANGUAGE_URL, {"language": language})
    assert response.status_code == 200
    assert response.context["language_form"].errors
    partner.user.refresh_from_db()
    assert partner.user.language == "fr"


def test_get_on_the_language_url_changes_nothing(partner_client, partner):
    assert partner_client.get(LANGUAGE_URL, {"language": "en"}).status_code == 405
    partner.user.refresh_from_db()
    assert partner.user.language == "fr"


def test_money_follows_the_language(partner_client, partner):
    from catalog.tests.factories import BookFactory
    from operations.tests.factories import delivered_order

    book = BookFactory(price=Decimal("1234.50"))
    delivered_order(partner, (book, 1))
    partner_client.post(LANGUAGE_URL, {"language": "fr"})
    body = partner_client.get(reverse("operations:stock")).content.decode()
    assert "1\u00a0234,50\u00a0€" in body
    partner_client.post(LANGUAGE_URL, {"language": "en"})
    body = partner_client.get(reverse("operations:stock")).content.decode()
    assert "€1,234.50" in body


def test_account_page_runs_a_few_queries(partner_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert partner_client.get(URL).status_code == 200
