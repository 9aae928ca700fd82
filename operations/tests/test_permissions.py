"""Every portal URL against every role: who gets in, who is sent away, who gets a 404."""

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.billing.models import Invoice
from operations.models import Notification, Status
from operations.tests.factories import (
    delivered_order,
    place_order,
    request_return,
    submit_report,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN = reverse("admin:index")

# (method, url name, object of Alice it needs, status for Alice, for Bob)
URLS = [
    ("get", "operations:dashboard", None, 200, 200),
    ("get", "operations:catalogue", None, 200, 200),
    ("get", "operations:order_new", None, 200, 200),
    ("post", "operations:order_new", None, 302, 200),
    ("post", "operations:order_add", None, 302, 302),
    ("post", "operations:order_update", None, 302, 302),
    ("get", "operations:order_detail", "order", 200, 404),
    ("get", "operations:order_cancel", "order", 200, 404),
    ("post", "operations:order_cancel", "order", 302, 404),
    ("get", "operations:report_new", None, 200, 200),
    ("post", "operations:report_new", None, 200, 200),
    ("get", "operations:report_scan", None, 200, 200),
    ("post", "operations:report_scan", None, 302, 302),
    ("get", "operations:report_import", None, 200, 200),
    ("post", "operations:report_import", None, 200, 200),
    ("get", "operations:report_review", None, 302, 302),
    ("get", "operations:report_detail", "report", 200, 404),
    ("get", "operations:return_new", None, 200, 200),
    ("post", "operations:return_new", None, 200, 200),
    ("get", "operations:return_detail", "return", 200, 404),
    ("get", "operations:return_slip", "return", 200, 404),
    ("post", "operations:return_ship", "return", 302, 404),
    ("post", "operations:return_cancel", "return", 302, 404),
    ("get", "operations:history", None, 200, 200),
    ("get", "operations:stock", None, 200, 200),
    ("get", "operations:stock_csv", None, 200, 200),
    ("get", "operations:stock_xlsx", None, 200, 200),
    ("get", "operations:consignment_statement", None, 200, 200),
    ("get", "operations:consignment_statement_pdf", None, 200, 200),
    ("post", "operations:notification_read", "notice", 302, 404),
    ("post", "operations:notifications_read_all", None, 302, 302),
    ("get", "accounts:account", None, 200, 200),
    ("post", "accounts:account", None, 200, 200),
    ("post", "accounts:language", None, 200, 200),
    ("get", "operations:invoice_list", None, 200, 200),
    ("get", "operations:invoice_detail", "invoice", 200, 404),
    ("get", "operations:invoice_pdf", "invoice", 200, 404),
    # The partner's account: no id in the URL, each partner reads its own.
    ("get", "operations:billing_account", None, 200, 200),
    ("get", "operations:account_statement", None, 200, 200),
    ("get", "operations:account_statement_pdf", None, 200, 200),
]

ROLES = ["anonymous", "partner", "other_partner", "suspended_partner", "admin"]


@pytest.fixture
def alices(partner):
    """Alice's delivered order, her report, a requested return, then a pending order and a
    notice about it."""
    book = BookFactory()
    delivered_order(partner, (book, 3))
    report = submit_report(partner, (book, 1))
    ret = request_return(partner, (book, 1))
    order = place_order(partner, (book, 1))
    notice = Notification.objects.create(
        recipient=partner.user, operation=order, event=Notification.Event.ORDER_APPROVED
    )
    invoice = Invoice.objects.get(report=report)
    return {"order": order, "report": report, "notice": notice, "return": ret, "invoice": invoice}


def login_as(client, role, request):
    if role == "anonymous":
        return client
    if role == "admin":
        user = request.getfixturevalue("admin_user")
    else:
        user = request.getfixturevalue(role).user
    client.force_login(user)
    return client


def expected_status(role, owner_status, stranger_status):
    if role in ("anonymous", "suspended_partner"):
        return 302, LOGIN
    if role == "admin":
        return 302, ADMIN
    if role == "other_partner":
        return stranger_status, None
    return owner_status, None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "method, name, needs, owner_status, stranger_status",
    URLS,
    ids=[f"{m}-{n}" for m, n, *_ in URLS],
)
def test_permission_grid(
    client, request, alices, role, method, name, needs, owner_status, stranger_status
):
    args = [alices[needs].pk] if needs else []
    url = reverse(name, args=args)
    login_as(client, role, request)
    response = getattr(client, method)(url)
    status, location = expected_status(role, owner_status, stranger_status)
    assert response.status_code == status
    if location:
        assert response["Location"].startswith(location)
    if role != "partner":
        alices["order"].refresh_from_db()
        alices["notice"].refresh_from_db()
        assert alices["order"].status == Status.PENDING
        assert alices["notice"].read_at is None
        alices["return"].refresh_from_db()
        assert alices["return"].status == Status.REQUESTED


def test_a_suspended_partner_with_a_live_session_is_refused(client, suspended_partner):
    """Even if its user were still active, a suspended partner does not get in."""
    user = suspended_partner.user
    user.is_active = True
    user.save()
    client.force_login(user)
    assert client.get(reverse("operations:dashboard")).status_code == 403


def test_every_portal_url_is_in_the_grid():
    from django.urls import get_resolver

    names = {name for _m, name, *_ in URLS}
    found = set()
    for namespace in ("operations", "accounts"):
        resolver = get_resolver().namespace_dict[namespace][1]
        found |= {f"{namespace}:{key}" for key in resolver.reverse_dict if isinstance(key, str)}
    assert len(found) >= 15
    assert found <= names, found - names


@pytest.mark.parametrize(
    "method, name",
    [
        ("get", "operations:order_detail"),
        ("get", "operations:order_cancel"),
        ("post", "operations:order_cancel"),
        ("get", "operations:report_detail"),
        ("get", "operations:return_detail"),
        ("post", "operations:return_ship"),
        ("post", "operations:notification_read"),
    ],
)
@pytest.mark.parametrize("pk", [0, 999999, 99999999999999999999999])
def test_unknown_or_huge_ids_are_not_found(partner_client, method, name, pk):
    response = getattr(partner_client, method)(reverse(name, args=[pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("method, name, needs, owner_status, stranger_status", URLS)
def test_every_page_renders_in_french(
    partner_client, alices, method, name, needs, owner_status, stranger_status
):
    partner_client.cookies["django_language"] = "fr"
    args = [alices[needs].pk] if needs else []
    response = getattr(partner_client, method)(reverse(name, args=args))
    assert response.status_code == owner_status
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert '<html lang="fr">' in response.content.decode()
