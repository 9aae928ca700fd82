"""Payments in the back office: record from a partner's page, cancel with a reason, the
list, its CSV, the partner's account, statements, the receivables desk; who reaches what;
bounded queries."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PartnerFactory
from operations.billing.account import partner_balance, partner_credit
from operations.billing.models import Invoice, InvoiceStatus
from operations.billing.payments import Allocation, Payment
from operations.billing.tests.factories import invoiced_report, pay
from operations.billing.tests.test_pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(partner, other_partner, admin_user):
    _r, first = invoiced_report(partner, ("20.00", 1), admin=admin_user)  # 13.00
    _r, second = invoiced_report(partner, ("10.00", 1), admin=admin_user)  # 6.50
    _r, bobs = invoiced_report(other_partner, ("10.00", 1), admin=admin_user)
    payment = pay(other_partner, "2.00", admin_user, reference="BOB 1")
    return {
        "first": first,
        "second": second,
        "bobs": bobs,
        "payment": payment,
        "partner": partner,
        "other": other_partner,
    }


def today():
    return timezone.localdate().isoformat()


def record_url(partner):
    return reverse("admin:operations_payment_record", args=[partner.pk])


def test_an_admin_records_a_payment_from_the_partners_page_oldest_due_first(admin_client, books):
    partner = books["partner"]
    page = admin_client.get(reverse("admin:accounts_partner_change", args=[partner.pk]))
    assert record_url(partner) in page.content.decode()
    form = admin_client.get(record_url(partner)).content.decode()
    assert books["first"].number in form and books["bobs"].number not in form
    response = admin_client.post(
        record_url(partner),
        {"amount": "15.00", "received_on": today(), "method": "transfer", "reference": "VIR 7"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:operations_payment_account", args=[partner.pk])
    payment = Payment.objects.get(partner=partner)
    assert payment.recorded_by.email == "admin@example.com"
    first = Invoice.objects.with_allocated().get(pk=books["first"].pk)
    assert first.status() == InvoiceStatus.PAID
    assert partner_balance(partner) == Decimal("4.50")


def test_an_admin_applies_a_payment_explicitly(admin_client, books):
    partner, second = books["partner"], books["second"]
    admin_client.post(
        record_url(partner),
        {
            "amount": "10.00",
            "received_on": today(),
            "method": "cheque",
            f"apply_{second.pk}": "6.50",
        },
    )
    assert Allocation.objects.get(payment__partner=partner).invoice_id == second.pk
    assert partner_credit(partner) == Decimal("3.50")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "abc"}, "Enter a number"),
        ({"amount": "-3"}, "greater than or equal to 0.01"),
        ({"amount": "1e30"}, "less than or equal to"),
        ({"received_on": "2999-01-01"}, "future"),
        ({"received_on": "yesterday"}, "Enter a valid date"),
        ({"method": "bitcoin"}, "Select a valid choice"),
        ({"apply_first": "13.01"}, "less than or equal to 13.00"),
        ({"apply_first": "5", "amount": "4"}, "more than the payment"),
    ],
)
def test_bad_payment_input_gets_a_clear_message_and_writes_nothing(
    admin_client, books, data, message
):
    values = {"amount": "10.00", "received_on": today(), "method": "transfer"}
    for key, value in data.items():
        values[f"apply_{books['first'].pk}" if key == "apply_first" else key] = value
    response = admin_client.post(record_url(books["partner"]), values)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.filter(partner=books["partner"]).exists()


def test_the_same_payment_twice_is_refused_on_the_form(admin_client, books):
    values = {"amount": "5.00", "received_on": today(), "method": "transfer", "reference": "X"}
    admin_client.post(record_url(books["partner"]), values)
    response = admin_client.post(record_url(books["partner"]), values)
    assert "already recorded" in response.content.decode()
    assert Payment.objects.filter(partner=books["partner"]).count() == 1


def test_a_payment_is_cancelled_with_a_reason_and_never_deleted(admin_client, books):
    payment = books["payment"]
    url = reverse("admin:operations_payment_cancel", args=[payment.pk])
    change = admin_client.get(reverse("admin:operations_payment_change", args=[payment.pk]))
    assert url in change.content.decode()
    assert "deletelink" not in change.content.decode()
    response = admin_client.post(url, {"reason": "  "})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = admin_client.post(url, {"reason": "Bounced"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.is_cancelled and payment.cancel_reason == "Bounced"
    delete = admin_client.post(reverse("admin:operations_payment_delete", args=[payment.pk]))
    assert delete.status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()
    again = admin_client.get(url)
    assert again.status_code == 302


def test_the_payments_list_filters_searches_and_exports(admin_client, books):
    url = reverse("admin:operations_payment_changelist")
    content = admin_client.get(url, {"q": "BOB"}).content.decode()
    assert "BOB 1" in content
    assert "BOB 1" not in admin_client.get(url, {"cancelled": "yes"}).content.decode()
    assert "BOB 1" in admin_client.get(url, {"method": "transfer"}).content.decode()
    export = admin_client.get(reverse("admin:operations_payment_export"), {"q": "BOB"})
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "BOB 1" in text and "2.00" in text and books["other"].store_name in text


def test_the_account_page_runs_a_balance_and_applies_credit(admin_client, books, admin_user):
    partner = books["partner"]
    pay(partner, "30.00", admin_user, allocate_to={books["first"].pk: Decimal("1.00")})
    url = reverse("admin:operations_payment_account", args=[partner.pk])
    content = admin_client.get(url).content.decode()
    assert books["first"].number in content and "apply-credit" in content
    assert 'id="account-closing">-€10.50<' in content
    admin_client.post(reverse("admin:operations_payment_apply_credit", args=[partner.pk]))
    assert partner_credit(partner) == Decimal("10.50")
    assert not Invoice.objects.filter(partner=partner).open().exists()


def test_the_statement_pdf_closes_on_the_balance_the_page_shows(admin_client, books):
    partner = books["partner"]
    partner.user.language = "en"  # the PDF speaks the partner's language
    partner.user.save()
    page = admin_client.get(reverse("admin:operations_payment_account", args=[partner.pk]))
    assert 'id="account-closing">€19.50<' in page.content.decode()
    response = admin_client.get(reverse("admin:operations_payment_statement", args=[partner.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Statement of account" in text and partner.store_name in text
    assert books["first"].number in text and books["second"].number in text
    assert "Closing balance €19.50 €0.00 €19.50" in text


def test_every_partners_statement_comes_in_one_zip(admin_client, books):
    response = admin_client.get(reverse("admin:operations_payment_statements_zip"))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert len(names) == 2 and all(name.endswith(".pdf") for name in names)


def test_the_admin_index_shows_the_receivables_most_overdue_first(admin_client, books):
    content = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="receivables"' in content
    assert "€24.00 owed" in content  # 13.00 + 6.50 + 6.50 − 2.00
    account = reverse("admin:operations_payment_account", args=[books["partner"].pk])
    assert account in content


# -- who reaches what ----------------------------------------------------------------------------

PAGES = [
    ("admin:operations_payment_changelist", None, 200),
    ("admin:operations_payment_add", None, 200),
    ("admin:operations_payment_change", "payment", 200),
    ("admin:operations_payment_cancel", "payment", 200),
    ("admin:operations_payment_record", "partner", 200),
    ("admin:operations_payment_export", None, 200),
    ("admin:operations_payment_account", "partner", 200),
    ("admin:operations_payment_apply_credit", "partner", 405),
    ("admin:operations_payment_statement", "partner", 200),
    ("admin:operations_payment_statements_zip", None, 200),
    ("admin:operations_payment_receivables", None, 200),
]


@pytest.mark.parametrize(("name", "key", "admin_status"), PAGES)
@pytest.mark.parametrize("role", ["anonymous", "partner", "admin"])
def test_payment_admin_urls_by_role(request, books, role, name, key, admin_status):
    client = Client()
    if role == "partner":
        client.force_login(books["partner"].user)
    elif role == "admin":
        client.force_login(request.getfixturevalue("admin_user"))
    url = reverse(name, args=[books[key].pk] if key else [])
    response = client.get(url)
    if role == "admin":
        assert response.status_code == admin_status, url
        return
    assert response.status_code == 302, (role, url)
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_partner_posting_to_the_payment_pages_changes_nothing(partner_client, books):
    partner = books["partner"]
    forged = {"amount": "5", "received_on": today(), "method": "cash"}
    partner_client.post(record_url(partner), forged)
    partner_client.post(
        reverse("admin:operations_payment_cancel", args=[books["payment"].pk]), {"reason": "x"}
    )
    assert not Payment.objects.filter(partner=partner).exists()
    books["payment"].refresh_from_db()
    assert not books["payment"].is_cancelled


# -- bounded queries -----------------------------------------------------------------------------


def _grow(partner, admin_user, n):
    for _ in range(n):
        invoiced_report(partner, ("10.00", 1), admin=admin_user)
        pay(partner, "3.00", admin_user, reference=f"R{Payment.objects.count()}")


@pytest.mark.parametrize(
    "name",
    [
        "admin:operations_payment_account",
        "admin:operations_payment_record",
        "admin:operations_payment_changelist",
        "admin:operations_payment_receivables",
        "admin:index",
    ],
)
def test_payment_pages_run_the_same_queries_for_2_or_8_payments(
    admin_client, admin_user, name, django_assert_num_queries
):
    partner = PartnerFactory()
    args = [partner.pk] if "account" in name or "record" in name else []
    url = reverse(name, args=args)
    _grow(partner, admin_user, 2)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(url).status_code == 200
    _grow(partner, admin_user, 6)
    with django_assert_num_queries(len(small)):
        admin_client.get(url)


def test_the_invoice_page_shows_what_paid_it_and_what_is_still_due(admin_client, books):
    bobs = books["bobs"]
    content = admin_client.get(reverse("admin:operations_invoice_change", args=[bobs.pk]))
    content = content.content.decode()
    assert "2.00 EUR" in content and "Still due: 4.50 EUR" in content
    invoices = reverse("admin:operations_invoice_changelist")
    listed = admin_client.get(invoices, {"status": "partly_paid"})
    assert bobs.number in listed.content.decode()
    assert books["first"].number not in listed.content.decode()
