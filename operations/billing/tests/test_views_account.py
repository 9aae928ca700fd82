"""The partner's money on the portal: the dashboard says what is owed, what is overdue and
how to pay; the account page lists invoices with what is still due and the payments; the
statement of account as a page and a PDF, its own only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from operations.billing.account import partner_balance
from operations.billing.tests.factories import invoiced_report, pay
from operations.billing.tests.test_pdf import pdf_text
from operations.clock import backdated
from operations.services import report_void

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(partner, other_partner, admin_user):
    """Alice: an overdue invoice partly paid (13.00, 5.00 paid), a recent one (6.50)."""
    long_ago = timezone.now() - timedelta(days=75)
    with backdated(long_ago):
        _r, old = invoiced_report(partner, ("20.00", 1), admin=admin_user)
    pay(partner, "5.00", admin_user, reference="CHQ 1", method="cheque")
    _r, recent = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    _r, bobs = invoiced_report(other_partner, ("30.00", 1), admin=admin_user)
    return {"old": old, "recent": recent, "bobs": bobs}


def test_the_dashboard_says_what_is_overdue_and_how_to_pay(partner_client, alices, settings):
    settings.SELLER_IBAN = "FR76 3000 6000 0112 3456 7890 189"
    settings.SELLER_BIC = "AGRIFRPP"
    content = partner_client.get(reverse("operations:dashboard")).content.decode()
    assert 'id="money-overdue"' in content
    assert "€8.00 is overdue" in content and alices["old"].number in content
    assert "You owe €14.50 in all." in content
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in content and "BIC AGRIFRPP" in content
    assert reverse("operations:billing_account") in content


def test_the_dashboard_of_a_partner_with_credit_says_so(client, partner, admin_user):
    pay(partner, "12.00", admin_user)
    client.force_login(partner.user)
    content = client.get(reverse("operations:dashboard")).content.decode()
    assert "You have €12.00 of credit" in content and 'id="money-overdue"' not in content


def test_the_account_page_lists_invoices_with_what_is_still_due_and_the_payments(
    partner_client, alices
):
    content = partner_client.get(reverse("operations:billing_account")).content.decode()
    assert alices["old"].number in content and alices["recent"].number in content
    assert alices["bobs"].number not in content
    assert "Overdue" in content and "To pay" in content
    assert "€8.00" in content  # still due on the old invoice
    assert "CHQ 1" in content and "Cheque" in content
    assert 'id="account-balance">€14.50<' in content
    assert reverse("operations:account_statement") in content


def test_a_paid_and_a_credited_invoice_show_as_such(client, partner, admin_user):
    _r, paid = invoiced_report(partner, ("10.00", 1), admin=admin_user)
    pay(partner, "6.50", admin_user)
    report, credited = invoiced_report(partner, ("20.00", 1), admin=admin_user)
    report_void(report=report, by=admin_user, reason="Typo")
    client.force_login(partner.user)
    content = client.get(reverse("operations:billing_account")).content.decode()
    assert "Paid" in content and "Cancelled by a credit note" in content


def test_the_statement_page_and_pdf_close_on_the_same_balance(client, partner, alices):
    partner.user.language = "en"
    partner.user.save()
    client.force_login(partner.user)
    page = client.get(reverse("operations:account_statement"), {"date_from": "2000-01-01"})
    content = page.content.decode()
    assert partner_balance(partner) == Decimal("14.50")
    assert 'id="account-closing">€14.50<' in content
    pdf = client.get(reverse("operations:account_statement_pdf"), {"date_from": "2000-01-01"})
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Closing balance €19.50 €5.00 €14.50" in text
    assert alices["bobs"].number not in text


def test_the_statement_opens_on_the_balance_before_the_period(client, partner, alices):
    partner.user.language = "en"
    partner.user.save()
    client.force_login(partner.user)
    start = (timezone.localdate() - timedelta(days=10)).isoformat()
    content = client.get(reverse("operations:account_statement"), {"date_from": start})
    content = content.content.decode()
    assert 'id="account-opening">€13.00<' in content
    assert 'id="account-closing">€14.50<' in content
    assert alices["old"].number not in content


def test_the_statement_pdf_speaks_french_to_a_french_partner(client, partner, alices):
    partner.user.language = "fr"
    partner.user.save()
    client.force_login(partner.user)
    text = pdf_text(client.get(reverse("operations:account_statement_pdf")).content)
    assert "14,50 €" in text


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "nonsense"},
        {"date_from": "2026-12-31", "date_to": "2026-01-01"},
        {"date_to": "99999-01-01"},
        {"date_from": "\x00"},
    ],
)
def test_a_bad_period_gets_a_message_never_an_error(partner_client, alices, query):
    response = partner_client.get(reverse("operations:account_statement"), query)
    assert response.status_code == 200
    assert 'id="account-closing"' in response.content.decode()
    pdf = partner_client.get(reverse("operations:account_statement_pdf"), query)
    assert pdf.status_code == 200


PORTAL = [
    "operations:billing_account",
    "operations:account_statement",
    "operations:account_statement_pdf",
]


@pytest.mark.parametrize("name", PORTAL)
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("partner", 200),
        ("other_partner", 200),
        ("suspended_partner", 302),  # logged out at once
        ("admin", 302),
    ],
)
def test_portal_money_pages_by_role(request, alices, name, role, expected):
    client = Client()
    if role != "anonymous":
        fixture = "admin_user" if role == "admin" else role
        user = request.getfixturevalue(fixture)
        client.force_login(user if role == "admin" else user.user)
    response = client.get(reverse(name))
    assert response.status_code == expected
    if role == "other_partner" and name != "operations:account_statement_pdf":
        # Bob sees his own invoice, never Alice's.
        content = response.content.decode()
        assert alices["old"].number not in content and alices["recent"].number not in content
    if role == "admin":
        assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("name", [*PORTAL[:2], "operations:dashboard"])
def test_portal_money_pages_run_the_same_queries_for_2_or_8_invoices(
    client, partner, admin_user, name, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            invoiced_report(partner, ("10.00", 1), admin=admin_user)
            pay(partner, "2.00", admin_user, reference=f"R{timezone.now().timestamp()}")

    client.force_login(partner.user)
    grow(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(name)).status_code == 200
    grow(6)
    with django_assert_num_queries(len(small)):
        client.get(reverse(name))
