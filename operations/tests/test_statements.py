"""The consignment statement (état de dépôt): its figures against a hand-built ledger, the
page and the PDF alike, who sees it, and a query count that does not grow with the titles."""

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from catalog.tests.factories import BookFactory
from operations.clock import backdated
from operations.returns import Receipt, return_receive, return_ship
from operations.services import report_void
from operations.statements import consignment_statement, consignment_statement_pdf
from operations.tests.factories import (
    delivered_order,
    request_return,
    submit_report,
)

pytestmark = pytest.mark.django_db


def at(day: date, hour=12) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


TODAY = timezone.localdate()
D1 = TODAY - timedelta(days=40)  # delivery: 10 x A, 4 x B
D2 = TODAY - timedelta(days=30)  # report: 3 x A, 1 x B
D3 = TODAY - timedelta(days=20)  # return received: 2 x A
D4 = TODAY - timedelta(days=10)  # second report: 1 x A, voided on D5
D5 = TODAY - timedelta(days=5)


@pytest.fixture
def ledger(partner, admin_user):
    """A hand-built history of Alice with two titles, each step on its own day."""
    partner.user.language = "en"
    partner.user.save()
    book_a = BookFactory(title="Alpha", price=Decimal("12.45"))
    book_b = BookFactory(title="Beta", price=Decimal("9.99"))
    with backdated(at(D1)):
        delivered_order(partner, (book_a, 10), (book_b, 4), admin=admin_user)
    with backdated(at(D2)):
        submit_report(partner, (book_a, 3), (book_b, 1))
    with backdated(at(D3 - timedelta(days=1))):
        ret = request_return(partner, (book_a, 2))
        return_ship(ret=ret, by=partner.user)
    with backdated(at(D3)):
        return_receive(ret=ret, by=admin_user, receipts=[Receipt(book_id=book_a.pk, received=2)])
    with backdated(at(D4)):
        second = submit_report(partner, (book_a, 1))
    with backdated(at(D5)):
        report_void(report=second, by=admin_user, reason="Typed twice")
    return book_a, book_b


def figures(statement):
    return {
        line.title: (line.opening, line.delivered, line.sold, line.returned, line.held)
        for line in statement.lines
    }


def test_the_whole_history_to_today_reads_the_stored_balance(partner, ledger):
    statement = consignment_statement(partner=partner, date_from=D1, date_to=TODAY)
    # (opening, delivered, sold, returned, held): the void gives its copy back.
    assert figures(statement) == {"Alpha": (0, 10, 3, 2, 5), "Beta": (0, 4, 1, 0, 3)}
    assert statement.held == 8
    assert [line.value for line in statement.lines] == [Decimal("62.25"), Decimal("29.97")]
    assert statement.value == Decimal("92.22") == sum(line.value for line in statement.lines)


def test_a_past_date_is_computed_from_the_items_at_that_date(partner, ledger):
    assert figures(consignment_statement(partner=partner, date_from=D1, date_to=D1)) == {
        "Alpha": (0, 10, 0, 0, 10),
        "Beta": (0, 4, 0, 0, 4),
    }
    # The day after the return: held = 10 - 3 - 2.
    after_return = consignment_statement(partner=partner, date_from=D2, date_to=D3)
    assert figures(after_return) == {"Alpha": (10, 0, 3, 2, 5), "Beta": (4, 0, 1, 0, 3)}
    # Between the second report and its void, that copy was sold.
    before_void = consignment_statement(partner=partner, date_from=D4, date_to=D5 - timedelta(1))
    assert figures(before_void) == {"Alpha": (5, 0, 1, 0, 4), "Beta": (3, 0, 0, 0, 3)}
    # Over the void's day, the report and its void cancel out.
    over_void = consignment_statement(partner=partner, date_from=D4, date_to=D5)
    assert figures(over_void) == {"Alpha": (5, 0, 0, 0, 5), "Beta": (3, 0, 0, 0, 3)}
    assert over_void.value == Decimal("92.22")


def test_held_at_the_end_is_held_at_the_start_plus_the_movements(partner, ledger):
    for start, end in [(D1, D2), (D2, D5), (D1 - timedelta(5), D3), (D3, TODAY)]:
        for line in consignment_statement(partner=partner, date_from=start, date_to=end).lines:
            assert line.held == line.opening + line.delivered - line.sold - line.returned


def test_computed_and_stored_stock_agree_today(partner, ledger):
    computed = consignment_statement(
        partner=partner, date_from=D1, date_to=TODAY, today=TODAY + timedelta(days=1)
    )
    stored = consignment_statement(partner=partner, date_from=D1, date_to=TODAY)
    assert figures(computed) == figures(stored)


def test_a_period_before_any_delivery_is_empty(partner, ledger):
    statement = consignment_statement(
        partner=partner, date_from=D1 - timedelta(10), date_to=D1 - timedelta(1)
    )
    assert statement.lines == [] and statement.value == Decimal("0.00")


def test_the_pdf_carries_the_same_figures_as_the_page(partner_client, partner, ledger):
    query = {"date_from": D2.isoformat(), "date_to": D3.isoformat()}
    page = partner_client.get(reverse("operations:consignment_statement"), query)
    assert page.status_code == 200
    statement = page.context["statement"]
    html = page.content.decode()
    pdf = partner_client.get(reverse("operations:consignment_statement_pdf"), query)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Consignment statement" in text and partner.store_name in text
    for line in statement.lines:
        assert line.isbn in text and line.isbn in html
        row = f"{line.opening} {line.delivered} {line.sold} {line.returned} {line.held}"
        assert row in text
    assert "Total 14 0 4 2 8" in text
    assert "€92.22" in text and "€92.22" in html


def test_the_pdf_function_follows_the_partners_language(partner, ledger):
    partner.user.language = "fr"
    partner.user.save()
    text = pdf_text(consignment_statement_pdf(partner, D1, TODAY))
    assert "État de dépôt" in text
    assert "92,22\xa0€" in text or "92,22 €" in text


def test_a_partner_sees_only_its_own_statement(client, partner, other_partner, ledger):
    client.force_login(other_partner.user)
    query = {"date_from": D1.isoformat(), "date_to": TODAY.isoformat(), "partner": partner.pk}
    page = client.get(reverse("operations:consignment_statement"), query)
    assert page.status_code == 200
    assert page.context["statement"].partner == other_partner
    assert page.context["statement"].lines == []
    assert "Alpha" not in page.content.decode()
    text = pdf_text(client.get(reverse("operations:consignment_statement_pdf"), query).content)
    assert "Alpha" not in text and other_partner.store_name in text


@pytest.mark.parametrize(
    ("date_from", "date_to", "field"),
    [
        ("2026-13-01", "2026-01-01", "date_from"),
        ("abc", "", "date_to"),
        ("2026-02-01", "2026-01-01", "date_from"),
        ("1900-01-01", "1900-01-02", "date_from"),
        ("2026-01-01", "9999-12-31", "date_to"),
    ],
)
def test_bad_dates_get_a_message_not_an_error(partner_client, date_from, date_to, field):
    query = {"date_from": date_from, "date_to": date_to}
    page = partner_client.get(reverse("operations:consignment_statement"), query)
    assert page.status_code == 200
    assert page.context["form"].errors[field]
    pdf = partner_client.get(reverse("operations:consignment_statement_pdf"), query)
    assert pdf.status_code == 400


def test_the_admin_page_and_pdf_of_one_partner(admin_client, partner, ledger):
    query = {"date_from": D1.isoformat(), "date_to": TODAY.isoformat()}
    url = reverse("admin:operations_consignment_statement", args=[partner.pk])
    page = admin_client.get(url, query)
    assert page.status_code == 200
    assert page.context["statement"].held == 8
    pdf = admin_client.get(
        reverse("admin:operations_consignment_statement_pdf", args=[partner.pk]), query
    )
    assert "Total 0 14 4 2 8" in pdf_text(pdf.content)
    change = admin_client.get(reverse("admin:accounts_partner_change", args=[partner.pk]))
    assert url in change.content.decode()


def test_the_admin_zip_has_one_pdf_per_partner_with_stock(
    admin_client, partner, other_partner, ledger
):
    delivered_order(other_partner, (ledger[0], 2))
    response = admin_client.get(
        reverse("admin:operations_consignment_statements_zip"),
        {"date_from": D1.isoformat(), "date_to": TODAY.isoformat()},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert len(names) == 2
    texts = [pdf_text(archive.read(name)) for name in names]
    assert any(partner.store_name in text and "Total 0 14 4 2 8" in text for text in texts)
    assert any(other_partner.store_name in text and "Total 0 2 0 0 2" in text for text in texts)


def _titles(partner, admin_user, count):
    books = [BookFactory() for _ in range(count)]
    with backdated(at(D1)):
        delivered_order(partner, *[(book, 3) for book in books], admin=admin_user)
    with backdated(at(D2)):
        submit_report(partner, *[(book, 1) for book in books])


@pytest.mark.parametrize("past", [False, True])
def test_the_page_takes_the_same_queries_for_10_and_50_titles(
    client, partner, other_partner, admin_user, django_assert_num_queries, past
):
    _titles(partner, admin_user, 10)
    _titles(other_partner, admin_user, 50)
    end = D3 if past else TODAY
    query = {"date_from": D1.isoformat(), "date_to": end.isoformat()}
    counts = []
    for who in (partner, other_partner):
        client.force_login(who.user)
        client.get(reverse("operations:consignment_statement"), query)  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("operations:consignment_statement"), query)
        assert len(response.context["statement"].lines) in (10, 50)
        counts.append(len(captured))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[1]):
        client.get(reverse("operations:consignment_statement"), query)


@pytest.mark.parametrize("pk", [0, 2**63, int("9" * 30)])
def test_an_unknown_or_huge_partner_id_is_not_found_in_the_admin(admin_client, pk):
    for name in ("operations_consignment_statement", "operations_consignment_statement_pdf"):
        assert admin_client.get(reverse(f"admin:{name}", args=[pk])).status_code == 404


def test_the_admin_dates_are_checked_too(admin_client, partner):
    url = reverse("admin:operations_consignment_statement_pdf", args=[partner.pk])
    response = admin_client.get(url, {"date_from": "2026-02-30", "date_to": "x"})
    assert response.status_code == 400
    assert response.context["form"].errors
    zipped = admin_client.get(
        reverse("admin:operations_consignment_statements_zip"), {"date_from": "\x00"}
    )
    assert zipped.status_code == 400
