"""Small production points: cookies, caching of private pages, the e-mail backend."""

import pytest
from django.urls import reverse

from toplivres.checks import check_email_backend

pytestmark = pytest.mark.django_db


def test_the_language_cookie_is_lax_http_only_and_secure_like_the_session(client, settings):
    assert settings.LANGUAGE_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]


def test_the_language_cookie_set_at_login_has_the_same_attributes(client, partner, settings):
    from accounts.tests.factories import PASSWORD

    response = client.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}
    )
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["samesite"] == "Lax"


@pytest.mark.parametrize(
    "name", ["operations:dashboard", "operations:stock", "operations:history", "accounts:account"]
)
def test_portal_pages_are_never_kept_in_a_cache(partner_client, name):
    response = partner_client.get(reverse(name))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_portal_stock_csv_is_never_kept_in_a_cache(partner_client):
    response = partner_client.get(reverse("operations:stock_csv"))
    assert "no-store" in response["Cache-Control"]


def test_the_deploy_check_warns_about_console_email(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert [w.id for w in check_email_backend(None)] == ["toplivres.W001"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert check_email_backend(None) == []


def test_the_deploy_check_is_registered():
    from django.core.checks import registry

    assert check_email_backend in registry.registry.get_checks(include_deployment_checks=True)
