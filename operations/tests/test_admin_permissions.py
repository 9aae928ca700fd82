"""Nobody but an admin reaches anything under /admin/: (url, role) -> expected status."""

import pytest
from django.test import Client
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.models import ExportFile, Status
from operations.returns import return_ship
from operations.tests.factories import delivered_order, place_order, request_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(partner, other_partner, admin_user):
    book = BookFactory()
    order = place_order(partner, (book, 1))
    delivered_order(other_partner, (book, 2))
    ret = request_return(other_partner, (book, 1))
    return_ship(ret=ret, by=other_partner.user)
    export = ExportFile.objects.create(name="x.csv", format="csv", requested_by=admin_user)
    return {
        "order": order,
        "book": book,
        "partner": other_partner,
        "return": ret,
        "export": export,
    }


# (name, args key, GET status for an admin)
ADMIN_URLS = [
    ("admin:index", None, 200),
    ("admin:operations_operation_changelist", None, 200),
    ("admin:operations_operation_change", "order", 200),
    ("admin:operations_operation_approve", "order", 405),
    # A pending order cannot be delivered, nor an order voided: said at once, on its page.
    ("admin:operations_operation_deliver", "order", 302),
    ("admin:operations_operation_reject", "order", 200),
    ("admin:operations_operation_void", "order", 302),
    ("admin:operations_operation_receive", "return", 200),
    ("admin:operations_operation_refuse", "return", 302),  # shipped: refused at once
    ("admin:operations_operation_cancel_return", "return", 405),
    ("admin:operations_recall", "partner", 200),
    ("admin:operations_bulk_recall", "book", 200),
    ("admin:operations_operation_export", None, 200),
    ("admin:operations_exportfile_changelist", None, 200),
    ("admin:operations_exportfile_download", "export", 404),  # not written yet
    ("admin:operations_stock", None, 200),
    ("admin:operations_analytics", None, 200),
    ("admin:operations_consignment_statement", "partner", 200),
    ("admin:operations_consignment_statement_pdf", "partner", 200),
    ("admin:operations_consignment_statements_zip", None, 200),
    ("admin:operations_reminder_changelist", None, 200),
    ("admin:operations_notification_changelist", None, 200),
    ("admin:accounts_partner_changelist", None, 200),
    ("admin:accounts_partner_add", None, 200),
    ("admin:accounts_partner_change", "partner", 200),
    ("admin:accounts_partner_suspend", "partner", 200),
    ("admin:accounts_partner_reactivate", "partner", 405),
    ("admin:accounts_partner_invite", "partner", 405),
    ("admin:accounts_user_changelist", None, 200),
    ("admin:catalog_book_changelist", None, 200),
    ("admin:catalog_book_change", "book", 200),
    ("admin:catalog_book_import", None, 200),
    ("admin:catalog_series_changelist", None, 200),
]


def url_for(name, key, objects):
    return reverse(name, args=[objects[key].pk] if key else [])


def client_for(role, request):
    client = Client()
    if role == "partner":
        client.force_login(request.getfixturevalue("partner").user)
    elif role == "admin":
        client.force_login(request.getfixturevalue("admin_user"))
    return client


@pytest.mark.parametrize(("name", "key", "admin_status"), ADMIN_URLS)
@pytest.mark.parametrize("role", ["anonymous", "partner", "admin"])
def test_admin_urls_by_role(request, objects, role, name, key, admin_status):
    client = client_for(role, request)
    url = url_for(name, key, objects)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if role == "admin":
            if method == "get":
                assert response.status_code == admin_status, url
            continue
        assert response.status_code == 302, (role, method, url)
        assert response["Location"].startswith(reverse("admin:login")), url


def test_a_partner_posting_to_the_order_desk_changes_nothing(partner_client, objects):
    order = objects["order"]
    for step in ("approve", "deliver", "reject"):
        partner_client.post(
            reverse(f"admin:operations_operation_{step}", args=[order.pk]),
            {"apply": "1", "reason": "forged"},
        )
    partner_client.post(
        reverse("admin:operations_operation_changelist"),
        {"action": "approve", "_selected_action": [order.pk]},
    )
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_a_partner_posting_to_the_return_desk_changes_nothing(client, objects):
    ret, book, other = objects["return"], objects["book"], objects["partner"]
    client.force_login(other.user)
    client.post(
        reverse("admin:operations_operation_receive", args=[ret.pk]),
        {f"received_{book.pk}": "1", f"damaged_{book.pk}": "0"},
    )
    client.post(reverse("admin:operations_recall", args=[other.pk]), {f"copies_{book.pk}": "1"})
    client.post(reverse("admin:operations_bulk_recall", args=[book.pk]), {"reason": "forged"})
    ret.refresh_from_db()
    assert ret.status == Status.SHIPPED
    assert not ret.partner.operations.filter(status=Status.RECALLED).exists()


def test_a_partner_cannot_suspend_another_partner(partner_client, objects):
    other = objects["partner"]
    partner_client.post(
        reverse("admin:accounts_partner_suspend", args=[other.pk]),
        {"apply": "1", "reason": "forged"},
    )
    other.refresh_from_db()
    assert not other.is_suspended


def test_a_suspended_partner_reaches_nothing_either(client, suspended_partner):
    client.force_login(suspended_partner.user)
    response = client.get(reverse("admin:operations_stock"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
