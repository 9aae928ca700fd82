"""The sales report of a shop holding many titles, in a real browser: ISBNs scanned at the
counter (Enter adds one copy, the list updates in place), a till export imported with its
refused lines named, one summary, one report."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory, make_isbn
from operations.models import Kind, Operation
from operations.tests.factories import delivered_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    partner = PartnerFactory(
        user=UserFactory(email="scan@example.com", language="en"), store_name="Librairie Scan"
    )
    hugo = BookFactory(title="Les Misérables", price=Decimal("12.50"), isbn=make_isbn(4101))
    zola = BookFactory(title="Germinal", price=Decimal("9.90"), isbn=make_isbn(4102))
    delivered_order(partner, (hugo, 3), (zola, 2))
    return {"partner": partner, "hugo": hugo, "zola": zola}


def test_scan_then_import_then_one_summary(page, live_server, shop, tmp_path):
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill("scan@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(base + "/reports/new/")
    page.get_by_role("link", name="Scan ISBNs").click()
    field = page.get_by_label("Scan or type the ISBN of each copy sold")
    expect(field).to_be_focused()
    page.evaluate("window.stillTheSamePage = true")
    hugo = shop["hugo"].isbn
    field.fill(f"{hugo[:3]}-{hugo[3:]}")
    field.press("Enter")
    expect(page.locator(".scan-notice")).to_have_text("Les Misérables: 1 sold.")
    expect(page.locator(".scan-line")).to_have_count(1)
    field = page.get_by_label("Scan or type the ISBN of each copy sold")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    field.fill("9780000000000")
    field.press("Enter")
    expect(page.locator(".scan-notice")).to_contain_text("wrong check digit")
    expect(page.locator(".scan-line")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True

    # The till export: one Germinal accepted, an unknown ISBN refused by line.
    export = tmp_path / "caisse.csv"
    export.write_text(f"EAN;Qté\n{shop['zola'].isbn};2\n{make_isbn(4999)};1\n", "utf-8")
    page.get_by_role("link", name="Import a till file").click()
    page.get_by_label("Till export (CSV or Excel .xlsx)").set_input_files(str(export))
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator(".refused-lines")).to_contain_text("Line 3")
    expect(page.locator(".refused-lines")).to_contain_text("no book with this ISBN")
    expect(page.locator(".accepted-lines")).to_contain_text("Germinal")
    page.get_by_role("button", name="Add these lines to my report").click()

    expect(page.get_by_role("heading", name="Check before sending")).to_be_visible()
    expect(page.locator("#summary-copies")).to_have_text("3")
    expect(page.locator(".summary-lines")).to_contain_text("2 copies left on the shelf")
    page.get_by_role("button", name="Send this report").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Sales report REP-"))).to_be_visible()
    report = Operation.objects.get(partner=shop["partner"], kind=Kind.REPORT)
    assert sorted((i.book.title, i.quantity) for i in report.items.all()) == [
        ("Germinal", -2),
        ("Les Misérables", -1),
    ]
