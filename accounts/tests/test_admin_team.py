"""The publisher's team: staff in one group with the permissions it needs, no superuser; the
admin never types a partner's password."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import BACK_OFFICE_GROUP
from catalog.tests.factories import BookFactory
from operations.models import Status
from operations.tests.factories import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_member(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "dora@example.com",
            "full_name": "Dora",
            "language": "fr",
            "password1": "Un-mot-de-passe-solide-7",
            "password2": "Un-mot-de-passe-solide-7",
        },
    )
    assert response.status_code == 302
    return User.objects.get(email="dora@example.com")


def test_a_new_team_member_is_staff_in_the_back_office_group_not_a_superuser(team_member):
    assert team_member.is_staff and team_member.is_admin
    assert not team_member.is_superuser
    assert list(team_member.groups.values_list("name", flat=True)) == [BACK_OFFICE_GROUP]


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:index"),
        reverse("admin:operations_operation_changelist"),
        reverse("admin:operations_operation_export"),
        reverse("admin:operations_stock"),
        reverse("admin:operations_analytics"),
        reverse("admin:operations_notification_changelist"),
        reverse("admin:accounts_partner_changelist"),
        reverse("admin:accounts_partner_add"),
        reverse("admin:catalog_book_changelist"),
        reverse("admin:catalog_book_add"),
        reverse("admin:catalog_book_import"),
        reverse("admin:catalog_series_changelist"),
    ],
)
def test_a_team_member_opens_every_back_office_page(client, team_member, url):
    client.force_login(team_member)
    assert client.get(url).status_code == 200


def test_a_team_member_approves_an_order(client, team_member, partner):
    order = place_order(partner, (BookFactory(), 2))
    client.force_login(team_member)
    client.post(reverse("admin:operations_operation_approve", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == Status.APPROVED


def test_a_team_member_does_not_manage_users(client, team_member):
    client.force_login(team_member)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_the_admin_cannot_type_a_partners_password(admin_client, partner):
    change = admin_client.get(reverse("admin:accounts_user_change", args=[partner.user.pk]))
    assert change.status_code == 200
    shown = [
        name
        for _name, options in change.context["adminform"].fieldsets
        for name in options["fields"]
    ]
    assert "password" not in shown
    assert b"password/" not in change.content
    url = reverse("admin:auth_user_password_change", args=[partner.user.pk])
    assert admin_client.get(url).status_code == 403
    response = admin_client.post(
        url, {"password1": "Hack-me-123456", "password2": "Hack-me-123456"}
    )
    assert response.status_code == 403
    partner.user.refresh_from_db()
    assert not partner.user.check_password("Hack-me-123456")


def test_the_admin_still_sets_a_team_members_password(admin_client, team_member):
    url = reverse("admin:auth_user_password_change", args=[team_member.pk])
    assert admin_client.get(url).status_code == 200
