import pytest
from django.utils import translation

from accounts.tests.factories import AdminUserFactory, PartnerFactory, UserFactory


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English: a request served in French (LocaleMiddleware, or a view
    that switches the language) leaves French active in the thread for the next test."""
    translation.activate("en")
    yield
    translation.deactivate()


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


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttles count in the cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
