import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_email_login_is_case_insensitive(client, partner):
    response = login(client, "ALICE@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("operations:dashboard")
    assert client.get(reverse("operations:dashboard")).status_code == 200


def test_wrong_password_is_refused_with_a_message(client, partner):
    response = login(client, "alice@example.com", "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()


def test_inactive_user_cannot_log_in(client, partner):
    partner.user.is_active = False
    partner.user.save()
    response = login(client, "alice@example.com")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_suspended_partner_cannot_log_in(client, suspended_partner):
    response = login(client, suspended_partner.user.email)
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_admin_lands_on_the_admin_after_login(client, admin_user):
    response = login(client, "admin@example.com")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == reverse("admin:index")


def test_partner_cannot_open_the_admin(partner_client):
    response = partner_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = partner_client.get("/admin/operations/")
    assert response.status_code in (302, 404)


def test_partner_cannot_log_in_through_the_admin_login(client, partner):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_visiting_the_portal_is_sent_to_the_admin(admin_client):
    response = admin_client.get(reverse("operations:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("operations:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_page_requested_in_french_renders_in_french(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert "Se connecter" in response.content.decode()


def test_language_switcher_sets_french(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "Se connecter" in client.get(reverse("login")).content.decode()


def test_password_reset_sends_a_link_that_sets_the_password(client, partner, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/reset/" in line).strip()
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "new-Passw0rd-xyz", "new_password2": "new-Passw0rd-xyz"},
    )
    assert response.status_code == 302
    partner.user.refresh_from_db()
    assert partner.user.check_password("new-Passw0rd-xyz")


def test_password_change_page_needs_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302


def test_repeated_failures_lock_the_login(client, partner, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "alice@example.com", "wrong")
    response = login(client, "alice@example.com")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 429


def test_an_overlong_email_is_refused_by_the_form_not_by_a_server_error(client):
    response = login(client, "x" * 300 + "@example.com", "whatever")
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.django_db
def test_a_partner_page_loads_the_user_and_its_partner_in_one_query(partner_client, partner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert partner_client.get(reverse("operations:dashboard")).status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    alone = [
        sql for sql in sqls if 'FROM "accounts_partner" WHERE "accounts_partner"."user_id"' in sql
    ]
    assert not alone, alone
    assert any('FROM "accounts_user" LEFT OUTER JOIN "accounts_partner"' in sql for sql in sqls), (
        sqls
    )
