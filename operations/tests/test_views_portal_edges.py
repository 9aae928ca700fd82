"""Portal edges: what a person sees when something is refused, doubled or tampered with."""

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.forms import OrderDraft

pytestmark = pytest.mark.django_db

ADD = reverse("operations:order_add")


def test_a_refused_add_from_the_catalogue_is_swapped_in_by_htmx(partner_client):
    retired = BookFactory(title="Épuisé", is_active=False)
    response = partner_client.post(
        ADD, {"book": retired.pk, "copies": 1, "from": "catalogue"}, HTTP_HX_REQUEST="true"
    )
    # htmx 2 does not swap a 4xx answer: the message must come with a 200.
    assert response.status_code == 200
    body = response.content.decode()
    assert "no longer available" in body
    assert 'role="alert"' in body


@pytest.mark.parametrize("book", [str(2**62 + 1), "-1", "0", "abc", "", "1e3"])
def test_a_tampered_book_id_is_an_unknown_book(partner_client, book):
    response = partner_client.post(ADD, {"book": book, "copies": 1}, follow=True)
    body = response.content.decode()
    assert "This book is not in the catalogue." in body
    assert "Ensure this value" not in body


def test_copies_posted_twice_are_refused_not_read_as_the_last(partner_client, partner):
    book = BookFactory()
    response = partner_client.post(ADD, {"book": book.pk, "copies": ["1", "9999"]}, follow=True)
    assert "sent more than once" in response.content.decode()
    session_draft = OrderDraft(partner_client.session, partner=partner)
    assert session_draft.lines == {}


def test_a_success_message_is_a_status_and_an_error_an_alert(partner_client):
    book = BookFactory(title="Germinal")
    response = partner_client.post(ADD, {"book": book.pk, "copies": 2}, follow=True)
    body = response.content.decode()
    assert '<div class="alert alert-success" role="status">' in body
    response = partner_client.post(ADD, {"book": "abc", "copies": 2}, follow=True)
    assert '<div class="alert alert-danger" role="alert">' in response.content.decode()


def test_the_footer_language_switcher_saves_the_account_language(partner_client, partner):
    partner.user.language = "fr"
    partner.user.save()
    partner_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    partner.user.refresh_from_db()
    assert partner.user.language == "en"
    # The next login keeps it.
    partner_client.logout()
    from accounts.tests.factories import PASSWORD

    response = partner_client.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}, follow=True
    )
    assert response.wsgi_request.LANGUAGE_CODE == "en"


def test_the_footer_language_switcher_still_works_anonymously(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"
