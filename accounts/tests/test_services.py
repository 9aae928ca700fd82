import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.services import partner_create, partner_reactivate, partner_suspend
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_partner_create_makes_a_partner_user_without_a_usable_password():
    partner = partner_create(email="New@Shop.fr", store_name="La Nouvelle")
    assert partner.user.email == "new@shop.fr"
    assert partner.user.is_partner
    assert not partner.user.is_staff
    assert not partner.user.has_usable_password()


def test_partner_create_refuses_a_duplicate_email(partner):
    with pytest.raises(ValidationError):
        partner_create(email="ALICE@example.com", store_name="Again")


def test_suspension_ends_every_session_of_the_partner_only(partner, other_partner, admin_user):
    alice_phone, alice_laptop, bob = Client(), Client(), Client()
    for client, p in ((alice_phone, partner), (alice_laptop, partner), (bob, other_partner)):
        client.force_login(p.user)
    assert Session.objects.count() == 3
    partner_suspend(partner=partner, by=admin_user, reason="Closed for good")
    assert Session.objects.count() == 1
    partner.refresh_from_db()
    assert partner.is_suspended
    assert partner.suspended_by == admin_user
    assert not partner.user.is_active
    response = alice_phone.get(reverse("operations:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert bob.get(reverse("operations:dashboard")).status_code == 200


def test_suspension_needs_a_reason(partner, admin_user):
    with pytest.raises(ValidationError):
        partner_suspend(partner=partner, by=admin_user, reason=" ")
    partner.refresh_from_db()
    assert not partner.is_suspended


def test_reactivation_restores_access(client, suspended_partner, admin_user):
    partner_reactivate(partner=suspended_partner, by=admin_user)
    suspended_partner.refresh_from_db()
    assert not suspended_partner.is_suspended
    response = client.post(
        reverse("login"), {"username": suspended_partner.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    with pytest.raises(ValidationError):
        partner_reactivate(partner=suspended_partner, by=admin_user)


def test_partner_update_details_writes_only_the_store_details(partner, admin_user):
    from decimal import Decimal

    from accounts.models import Partner
    from accounts.services import partner_update_details

    stale = Partner.objects.get(pk=partner.pk)
    Partner.objects.filter(pk=partner.pk).update(commission_rate=Decimal("42"))
    partner_update_details(partner=stale, by=partner.user, city="Arles", phone="04 90 00 00 00")
    partner.refresh_from_db()
    assert partner.city == "Arles"
    assert partner.commission_rate == Decimal("42")


def test_partner_update_details_refuses_another_user_and_bad_values(partner, other_partner):
    from accounts.services import partner_update_details

    with pytest.raises(ValidationError):
        partner_update_details(partner=partner, by=other_partner.user, city="X")
    with pytest.raises(ValidationError):
        partner_update_details(partner=partner, by=partner.user, store_name="")
    with pytest.raises(ValueError):
        partner_update_details(partner=partner, by=partner.user, commission_rate=0)


def test_login_applies_the_saved_language(client, partner):
    partner.user.language = "en"
    partner.user.save()
    client.cookies["django_language"] = "fr"
    response = client.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}
    )
    assert response.cookies["django_language"].value == "en"
