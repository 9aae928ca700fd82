"""The login lockout, the client address, the reset flow and the suspended-account message."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.auth import client_ip
from accounts.tests.factories import PASSWORD, AdminUserFactory

pytestmark = pytest.mark.django_db

SPELLINGS = ["alice@example.com", "Alice@Example.com", "ALICE@EXAMPLE.COM", " aLiCe@eXaMpLe.CoM "]


def login(client, email, password=PASSWORD, url=None, **extra):
    return client.post(url or reverse("login"), {"username": email, "password": password}, **extra)


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 4
    return 4


def test_the_lockout_holds_across_every_spelling_of_an_address(client, partner, limit):
    for spelling in SPELLINGS:
        login(client, spelling, "wrong")
    for spelling in SPELLINGS:
        response = login(client, spelling)
        assert response.status_code == 429, spelling
        assert "_auth_user_id" not in client.session


def test_the_admin_lockout_holds_across_every_spelling_of_an_address(client, limit):
    AdminUserFactory(email="boss@example.com", is_superuser=True)
    url = reverse("admin:login")
    spellings = ["boss@example.com", "Boss@Example.com", "BOSS@example.com", "bOsS@ExAmPlE.cOm"]
    for spelling in spellings:
        login(client, spelling, "wrong", url=url)
    response = login(client, "Boss@EXAMPLE.com", url=url)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_very_long_login_is_refused_without_a_server_error(client):
    response = login(client, "a" * 300 + "@example.com", "wrong")
    assert response.status_code == 200
    response = login(client, "b" * 300 + "@example.com", "wrong", url=reverse("admin:login"))
    assert response.status_code == 200


def test_without_a_trusted_proxy_the_client_is_the_remote_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "10.0.0.1"


def test_behind_one_proxy_the_client_is_the_last_forwarded_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()
    # The left entry is typed by the client; the proxy appended the right one.
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(request) == "1.2.3.4"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(garbage) == "10.0.0.1"


def test_a_stranger_behind_the_proxy_cannot_lock_a_partner_out(client, partner, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    stranger = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}
    owner = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "5.5.5.5"}
    for _ in range(limit + 2):
        login(client, "alice@example.com", "wrong", **stranger)
    assert login(client, "alice@example.com", **stranger).status_code == 429
    response = login(client, "alice@example.com", **owner)
    assert response.status_code == 302


def test_a_password_reset_ends_a_lockout(client, partner, limit, mailoutbox):
    for _ in range(limit):
        login(client, "alice@example.com", "wrong")
    assert login(client, "alice@example.com").status_code == 429
    client.post(reverse("password_reset"), {"email": "Alice@example.com"})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    response = client.get("/" + link.strip().split("://", 1)[1].split("/", 1)[1], follow=True)
    client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "new-Passw0rd-xyz", "new_password2": "new-Passw0rd-xyz"},
    )
    assert login(client, "alice@example.com", "new-Passw0rd-xyz").status_code == 302


def test_password_reset_only_queues_a_task_for_known_and_unknown_addresses(
    client, partner, settings, mailoutbox
):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    for email in ["alice@example.com", "nobody@example.com"]:
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302
    assert mailoutbox == []
    queued = [result.kwargs["email"] for result in default_task_backend.results]
    assert queued == ["alice@example.com", "nobody@example.com"]


def test_password_reset_is_throttled_per_address(client, partner, settings, mailoutbox):
    settings.PASSWORD_RESET_LIMIT = 3
    for _ in range(20):
        response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
        assert response.status_code == 302
    assert len(mailoutbox) == 3


def test_a_suspended_partner_with_the_right_password_is_told_so(
    client, suspended_partner, settings
):
    settings.CONTACT_EMAIL = "contact@publisher.example"
    response = login(client, "Sam@example.com")
    assert "_auth_user_id" not in client.session
    text = response.content.decode()
    assert "suspended" in text
    assert "contact@publisher.example" in text


def test_a_suspended_account_is_not_revealed_without_the_password(client, suspended_partner):
    response = login(client, "sam@example.com", "wrong")
    assert "suspended" not in response.content.decode()
