"""With DEBUG off, every way of failing ends on our own page, with the site's navigation, in
French and in English."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = {"en": "Error 404", "fr": "Erreur 404"}
MISSING_PK = "987654"


def all_patterns(resolver=None, prefix=""):
    """(route, pattern) for every URL of the site, admin included."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def object_urls(area):
    """Every URL of `area` ("admin" or "portal") that names an object, with an id that does
    not exist."""
    urls = set()
    for route, _pattern in all_patterns():
        if not re.search(r"<(int:|path:)?(pk|object_id|id)>", route):
            continue
        if route.startswith("admin/") != (area == "admin") or "^" in route:
            continue
        path = re.sub(r"<(int:|path:)?(pk|object_id|id)>", MISSING_PK, route)
        if "<" in path or "(?P" in path:
            continue
        urls.add("/" + path)
    return sorted(urls)


def assert_our_page(response, status, language):
    assert response.status_code == status
    body = response.content.decode()
    assert 'id="error-page"' in body, body[:300]
    assert 'aria-label="' in body and "navbar" in body  # the site's navigation
    assert f'<html lang="{language}">' in body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", object_urls("portal"))
def test_every_portal_object_url_with_a_missing_id_shows_our_404(
    partner_client, settings, url, language
):
    settings.DEBUG = False
    response = partner_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    if response.status_code == 405:
        response = partner_client.post(url, HTTP_ACCEPT_LANGUAGE=language)
    assert_our_page(response, 404, language)
    assert LANGUAGES[language] in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", object_urls("admin"))
def test_every_admin_object_url_with_a_missing_id_answers_with_our_page_or_the_admins(
    admin_client, settings, url, language
):
    settings.DEBUG = False
    response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    # The admin sends a missing object's change page back to its list with a message; a
    # page refused to everyone (deleting a partner) is refused before the look-up.
    assert response.status_code in (302, 403, 404), (url, response.status_code)
    if response.status_code != 302:
        assert_our_page(response, response.status_code, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", ["/nowhere/", "/orders/nowhere/", "/admin/nowhere/"])
def test_an_unknown_address_shows_our_404(admin_user, partner, settings, url, language):
    settings.DEBUG = False
    client = Client()
    client.force_login(admin_user if url.startswith("/admin/") else partner.user)
    assert_our_page(client.get(url, HTTP_ACCEPT_LANGUAGE=language), 404, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_deleted_order_from_an_email_link_shows_our_404(partner_client, settings, language):
    settings.DEBUG = False
    url = reverse("operations:order_detail", args=[MISSING_PK])
    response = partner_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert_our_page(response, 404, language)
    assert reverse("operations:dashboard") in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_account_without_a_store_sees_our_403(client, settings, language):
    settings.DEBUG = False
    client.force_login(UserFactory(email="nostore@example.com"))
    response = client.get(reverse("operations:dashboard"), HTTP_ACCEPT_LANGUAGE=language)
    assert_our_page(response, 403, language)


@pytest.mark.parametrize(
    ("language", "text"), [("en", "Back to the form"), ("fr", "Retour au formulaire")]
)
def test_a_stale_login_form_shows_our_csrf_page_with_a_way_back(partner, settings, language, text):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"),
        {"username": "alice@example.com", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert_our_page(response, 403, language)
    body = response.content.decode()
    assert text in body
    assert f'href="{reverse("login")}"' in body


def test_a_form_left_open_returns_to_the_page_it_came_from(partner_client, settings):
    settings.DEBUG = False
    partner_client.handler.enforce_csrf_checks = True
    response = partner_client.post(
        reverse("operations:order_add"),
        {"book": "1"},
        HTTP_REFERER="http://testserver/catalogue/?q=zola",
    )
    assert response.status_code == 403
    assert 'href="http://testserver/catalogue/?q=zola"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_server_error_shows_our_500(partner_client, settings, monkeypatch, language):
    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("operations.views._dashboard_context", broken)
    partner_client.raise_request_exception = False
    response = partner_client.get(reverse("operations:dashboard"), HTTP_ACCEPT_LANGUAGE=language)
    assert_our_page(response, 500, language)


@pytest.mark.parametrize(("language", "text"), [("en", "Too many"), ("fr", "Trop de")])
def test_a_lockout_shows_our_429(client, partner, settings, language, text):
    settings.DEBUG = False
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        response = client.post(
            reverse("login"),
            {"username": "alice@example.com", "password": "wrong"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert_our_page(response, 429, language)
    assert text in response.content.decode()
