"""Invoices on the portal and in the back office, and who may see them."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from operations.billing.tests.factories import credited_report, invoiced_report
from operations.tests.factories import submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(partner, other_partner, admin_user):
    """Alice: an invoice credited by a credit note, and an open invoice. Bob: one invoice."""
    _report, credited, credit_note = credited_report(partner, admin_user, ("10.00", 2))
    submit_report(partner)  # after the void, so that Alice may order again
    _report, invoice = invoiced_report(partner, ("9.99", 3), admin=admin_user)
    _report, bobs = invoiced_report(other_partner, ("12.00", 1), admin=admin_user)
    return {"credited": credited, "credit_note": credit_note, "invoice": invoice, "bobs": bobs}


PORTAL_URLS = ["operations:invoice_detail", "operations:invoice_pdf"]


@pytest.mark.parametrize("name", PORTAL_URLS)
@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("anonymous", "invoice", 302),
        ("partner", "invoice", 200),
        ("partner", "credit_note", 200),
        ("partner", "bobs", 404),
        ("other_partner", "invoice", 404),
        ("other_partner", "bobs", 200),
        ("admin", "invoice", 302),
    ],
)
def test_permission_grid_for_one_document(
    client, documents, partner, other_partner, admin_user, name, role, target, expected
):
    users = {"partner": partner.user, "other_partner": other_partner.user, "admin": admin_user}
    if role in users:
        client.force_login(users[role])
    response = client.get(reverse(name, args=[documents[target].pk]))
    assert response.status_code == expected
    if role == "anonymous":
        assert reverse("login") in response["Location"]
    if role == "admin":
        assert response["Location"] == reverse("admin:index")


def test_a_suspended_partner_sees_no_invoice(client, suspended_partner):
    client.force_login(suspended_partner.user)
    assert client.get(reverse("operations:invoice_list")).status_code in (302, 403)


def test_the_invoice_list_shows_only_the_partners_documents(partner_client, documents):
    response = partner_client.get(reverse("operations:invoice_list"))
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("credited", "credit_note", "invoice"):
        assert documents[name].number in content
    assert documents["bobs"].number not in content
    assert "Cancelled by a credit note" in content
    assert "To pay" in content
    assert documents["invoice"].due_date.strftime("%m/%d/%Y") in content


def test_the_invoice_page_shows_lines_totals_and_the_pdf_link(partner_client, documents):
    invoice = documents["invoice"]
    response = partner_client.get(reverse("operations:invoice_detail", args=[invoice.pk]))
    content = response.content.decode()
    assert invoice.lines.get().isbn in content
    assert f"€{invoice.total_incl_vat}" in content
    assert reverse("operations:invoice_pdf", args=[invoice.pk]) in content


def test_the_pdf_is_downloaded_with_its_number(partner_client, documents):
    invoice = documents["invoice"]
    response = partner_client.get(reverse("operations:invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")


def test_the_report_page_and_the_history_link_to_the_invoice(partner_client, documents):
    invoice, credit_note = documents["invoice"], documents["credit_note"]
    url = reverse("operations:report_detail", args=[invoice.report_id])
    content = partner_client.get(url).content.decode()
    assert reverse("operations:invoice_detail", args=[invoice.pk]) in content
    assert f"€{invoice.total_incl_vat}" in content  # "Due to the publisher" is the invoice's
    content = partner_client.get(reverse("operations:history")).content.decode()
    assert invoice.number in content and credit_note.number in content


def test_the_dashboard_figures_come_from_invoices_and_credit_notes(partner_client, documents):
    response = partner_client.get(reverse("operations:dashboard"))
    figures = response.context["figures"]
    invoice = documents["invoice"]
    # The credited invoice and its credit note cancel out.
    assert figures.revenue == invoice.total_gross
    assert figures.amount_due == invoice.total_incl_vat


def test_the_history_lists_invoices_in_a_bounded_number_of_queries(
    partner_client, documents, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        partner_client.get(reverse("operations:history"))


# -- back office ---------------------------------------------------------------------------


def test_the_admin_lists_filters_and_searches_invoices(admin_client, documents):
    url = reverse("admin:operations_invoice_changelist")
    content = admin_client.get(url).content.decode()
    assert documents["invoice"].number in content and documents["bobs"].number in content
    assert documents["credit_note"].number not in content
    content = admin_client.get(url, {"status": "credited"}).content.decode()
    assert documents["credited"].number in content
    assert documents["invoice"].number not in content
    content = admin_client.get(url, {"q": documents["bobs"].number}).content.decode()
    assert documents["bobs"].number in content and documents["invoice"].number not in content
    content = admin_client.get(url, {"partner__id__exact": documents["bobs"].partner_id})
    assert documents["invoice"].number not in content.content.decode()
    credit_notes = reverse("admin:operations_creditnote_changelist")
    assert documents["credit_note"].number in admin_client.get(credit_notes).content.decode()


def test_the_admin_downloads_the_pdf(admin_client, documents):
    for model, name in (("invoice", "invoice"), ("creditnote", "credit_note")):
        url = reverse(f"admin:operations_{model}_pdf", args=[documents[name].pk])
        response = admin_client.get(url)
        assert response["Content-Type"] == "application/pdf"


def test_the_admin_exports_the_filtered_invoice_lines_as_csv(admin_client, documents):
    url = reverse("admin:operations_invoice_export")
    response = admin_client.get(url, {"partner__id__exact": documents["invoice"].partner_id})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Number"
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {documents["invoice"].number, documents["credited"].number}
    url = reverse("admin:operations_creditnote_export")
    rows = list(csv.reader(io.StringIO(b"".join(admin_client.get(url).streaming_content).decode())))
    assert rows[1][-1] == f"-{documents['credit_note'].total_incl_vat}"


def test_the_reports_admin_page_shows_its_invoice_and_credit_note(admin_client, documents):
    url = reverse("admin:operations_operation_change", args=[documents["credited"].report_id])
    content = admin_client.get(url).content.decode()
    assert documents["credited"].number in content
    assert documents["credit_note"].number in content


def test_partners_cannot_reach_the_invoice_admin(partner_client, documents):
    url = reverse("admin:operations_invoice_changelist")
    assert partner_client.get(url).status_code == 302
    url = reverse("admin:operations_invoice_pdf", args=[documents["invoice"].pk])
    assert partner_client.get(url).status_code == 302


def test_the_report_summary_announces_what_the_invoice_will_say(partner_client, partner):
    """Rounded per line: two lines of 0.01 at 50 % are due 0.01 + 0.01, not 0.02 x 50 %."""
    from catalog.tests.factories import BookFactory
    from operations.billing.models import Invoice
    from operations.tests.factories import delivered_order

    partner.commission_rate = 50
    partner.save()
    books = [BookFactory(price="0.01"), BookFactory(price="0.01")]
    delivered_order(partner, *[(book, 1) for book in books])
    url = reverse("operations:report_new")
    data = {"token": partner_client.get(url).context["form"]["token"].value()}
    data |= {f"sold_{book.pk}": "1" for book in books}
    summary = partner_client.post(url, {**data, "action": "review"}).context["summary"]
    partner_client.post(url, {**data, "action": "submit"})
    invoice = Invoice.objects.get(partner=partner)
    assert summary["due"] == invoice.total_incl_vat == Decimal("0.02")
    assert summary["revenue"] == invoice.total_gross


def test_the_sales_analytics_amount_due_is_what_the_invoices_say(partner, admin_user):
    """Per line: two lines of 0.01 at 50 % are due 0.02 on the invoice and in the analytics."""
    from django.utils import timezone

    from operations.analytics import SalesFilters, sales_by_month, sales_by_partner
    from operations.billing.models import Invoice

    partner.commission_rate = 50
    partner.save()
    _report, invoice = invoiced_report(partner, ("0.01", 1), ("0.01", 1), admin=admin_user)
    today = timezone.localdate()
    filters = SalesFilters(date_from=today.replace(day=1), date_to=today)
    (month,) = [row for row in sales_by_month(filters) if row.copies_sold]
    (row,) = sales_by_partner(filters)
    assert month.amount_due == row.amount_due == invoice.total_incl_vat == Decimal("0.02")
    assert Invoice.objects.count() == 1
