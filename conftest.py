import pytest

from accounts.tests.factories import AdminUserFactory, PartnerFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return AdminUserFactory(email="admin@example.com", full_name="Ada Admin")


@pytest.fixture
def partner(db):
    return PartnerFactory(user=UserFactory(email="alice@example.com"), store_name="Alice Livres")


@pytest.fixture
def other_partner(db):
    return PartnerFactory(user=UserFactory(email="bob@example.com"), store_name="Bob Bouquins")


@pytest.fixture
def suspended_partner(db, admin_user):
    from accounts.services import partner_suspend

    p = PartnerFactory(user=UserFactory(email="sam@example.com"), store_name="Sam Suspendu")
    return partner_suspend(partner=p, by=admin_user, reason="Unpaid invoices")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def partner_client(client, partner):
    client.force_login(partner.user)
    return client
