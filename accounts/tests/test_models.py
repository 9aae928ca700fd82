import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import User
from accounts.tests.factories import PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_case():
    user = User.objects.create_user("Mixed.Case@Example.COM", "pw-123456789")
    assert user.email == "mixed.case@example.com"


def test_duplicate_email_in_another_case_is_refused_by_validation():
    UserFactory(email="alice@example.com")
    with pytest.raises(ValidationError):
        User.objects.create_user("ALICE@example.com", "pw-123456789")


def test_duplicate_email_in_another_case_is_refused_by_the_database():
    UserFactory(email="alice@example.com")
    user = User(email="Alice@Example.com", role=User.Role.PARTNER)
    user.set_password("x")
    with pytest.raises(IntegrityError):
        # save() lower-cases, and the unique index refuses the duplicate.
        user.save()


def test_a_partner_cannot_be_staff_in_the_database():
    user = UserFactory()
    with pytest.raises(IntegrityError):
        User.objects.filter(pk=user.pk).update(is_staff=True)


def test_a_partner_cannot_be_staff_in_validation():
    user = UserFactory.build(is_staff=True)
    with pytest.raises(ValidationError):
        user.full_clean()


def test_partner_commission_defaults_from_settings(settings):
    from decimal import Decimal

    settings.DEFAULT_COMMISSION_RATE = Decimal("40")
    assert PartnerFactory().commission_rate == Decimal("40")


def test_commission_rate_outside_0_100_is_refused():
    partner = PartnerFactory()
    partner.commission_rate = 120
    with pytest.raises(ValidationError) as exc:
        partner.full_clean()
    assert "commission_rate" in exc.value.message_dict
