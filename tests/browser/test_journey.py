"""A partner's round trip in a real browser: log in, order, see the delivery arrive without
reloading, report sales by counting the shelf, and order again. Screenshots of every portal
page, phone and desktop, go to screenshots/ (git-ignored)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AdminUserFactory, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory, SeriesFactory
from operations.models import Kind, Operation, Status
from operations.services import order_approve, order_deliver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(django_settings.BASE_DIR) / "screenshots"
WIDTHS = {"phone": (375, 740), "desktop": (1280, 900)}


def shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{label}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


@pytest.fixture
def world(db):
    series = SeriesFactory(name="Les Rougon-Macquart")
    books = [
        BookFactory(title="Les Misérables", authors="Victor Hugo", price=Decimal("12.50")),
        BookFactory(
            title="Germinal",
            authors="Émile Zola",
            price=Decimal("9.90"),
            series=series,
            volume_number=13,
        ),
        BookFactory(title="Madame Bovary", authors="Gustave Flaubert", price=Decimal("8.00")),
    ]
    for n in range(25):
        BookFactory(title=f"Recueil de nouvelles {n:02d}", authors="Guy de Maupassant")
    partner = PartnerFactory(
        user=UserFactory(email="libraire@example.com", language="en"),
        store_name="La Bouquinerie du Port",
    )
    admin = AdminUserFactory(email="editeur@example.com", full_name="Éditions Test")
    return {"partner": partner, "admin": admin, "books": books}


def test_partner_journey(page, live_server, settings, world):
    settings.PORTAL_POLL_SECONDS = 1
    partner, admin = world["partner"], world["admin"]
    csp_errors = []  # scripts, styles or requests the Content Security Policy refused
    page.on(
        "console",
        lambda msg: (
            csp_errors.append(msg.text)
            if msg.type == "error" and msg.text.startswith("Refused to")
            else None
        ),
    )
    page.set_viewport_size({"width": 375, "height": 740})
    base = live_server.url

    # Log in through the form.
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    shoot(page, "00-login")
    page.get_by_label("E-mail address").fill("libraire@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="La Bouquinerie du Port")).to_be_visible()
    expect(page.get_by_text("You can order")).to_be_visible()
    shoot(page, "01-dashboard-new")

    # The catalogue, searched as you type.
    page.goto(base + "/catalogue/")
    page.get_by_label("Title, author, ISBN or series").fill("zola")
    expect(page.locator("#catalogue-results .book")).to_have_count(1)
    expect(page.locator("#catalogue-results")).to_contain_text("Germinal")
    page.get_by_role("button", name=re.compile(r"Add to order\W+Germinal")).click()
    expect(page.locator("#catalogue-results")).to_contain_text("Added: 1 in your order")
    page.goto(base + "/catalogue/")
    shoot(page, "02-catalogue")

    # The order: search-as-you-type adds lines; totals follow.
    page.goto(base + "/orders/new/")
    page.get_by_label("Find a book by title, author, ISBN or series").fill("misér")
    page.get_by_role("button", name=re.compile(r"Add\W+Les Misérables")).click()
    expect(page.locator("#order-lines")).to_contain_text("Les Misérables")
    copies = page.get_by_label("Copies Les Misérables")
    copies.fill("3")
    copies.press("Tab")
    expect(page.locator("#order-totals")).to_contain_text("4 copies")
    expect(page.locator("#order-totals")).to_contain_text("€47.40")
    # The same book again merges into its line.
    page.get_by_role("button", name=re.compile(r"Add\W+Les Misérables")).click()
    expect(page.locator("#order-totals")).to_contain_text("5 copies")
    expect(page.locator(".order-line")).to_have_count(2)
    # Enter in a quantity updates the totals; Remove drops only its line.
    page.get_by_label("Find a book by title, author, ISBN or series").fill("bovary")
    page.get_by_role("button", name=re.compile(r"Add\W+Madame Bovary")).click()
    expect(page.locator(".order-line")).to_have_count(3)
    bovary = page.get_by_label("Copies Madame Bovary")
    bovary.fill("2")
    bovary.press("Enter")
    expect(page.locator("#order-totals")).to_contain_text("7 copies")
    expect(page.locator(".order-line")).to_have_count(3)
    page.get_by_role("button", name=re.compile(r"Remove\W+Madame Bovary")).click()
    expect(page.locator(".order-line")).to_have_count(2)
    expect(page.locator("#order-totals")).to_contain_text("5 copies")
    page.get_by_label("Note for the publisher (optional)").fill("Pour la vitrine de Noël")
    shoot(page, "03-order-form")
    page.get_by_role("button", name="Send my order").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Order ORD-"))).to_be_visible()
    expect(page.locator("#order-status")).to_contain_text("Pending")
    order = Operation.objects.get(partner=partner, kind=Kind.ORDER)
    assert {i.book.title: i.quantity for i in order.items.select_related("book")} == {
        "Les Misérables": 4,
        "Germinal": 1,
    }
    shoot(page, "04-order-page")
    page.goto(base + f"/orders/{order.pk}/cancel/")
    shoot(page, "05-order-cancel-confirm")
    page.goto(base + "/orders/new/")
    expect(page.get_by_text("waiting for approval")).to_be_visible()
    shoot(page, "06-order-blocked")

    # The publisher approves and delivers; the dashboard shows it without a reload.
    page.goto(base + "/")
    expect(page.locator("#latest-order-status")).to_contain_text("waiting for approval")
    page.evaluate("window.stillTheSamePage = true")
    order_approve(order=order, by=admin)
    expect(page.locator("#latest-order-status")).to_contain_text("Approved on", timeout=10_000)
    order_deliver(order=order, by=admin)
    expect(page.locator("#latest-order-status")).to_contain_text("Delivered on", timeout=10_000)
    expect(page.locator(".next-step")).to_contain_text("Report your sales since the delivery")
    assert page.evaluate("window.stillTheSamePage") is True
    shoot(page, "07-dashboard-delivered")

    # The sales report, counted on the shelf: 4 delivered, 1 left means 3 sold.
    page.get_by_role("link", name="Report your sales").first.click()
    expect(page.get_by_role("heading", name="Report your sales")).to_be_visible()
    page.get_by_label("Still on the shelf Les Misérables").fill("1")
    misérables = page.locator(".report-line", has_text="Les Misérables")
    expect(misérables).to_contain_text("That is 3 sold.")
    page.get_by_label("Still on the shelf Les Misérables").fill("9")
    page.get_by_role("button", name="Review my report").click()
    expect(page.locator("#report")).to_contain_text("the shelf cannot have more")
    shoot(page, "08-report-form-error")
    page.get_by_label("Still on the shelf Les Misérables").fill("1")
    shoot(page, "09-report-form")
    page.get_by_role("button", name="Review my report").click()
    expect(page.locator("#summary-copies")).to_have_text("3")
    expect(page.locator("#summary-revenue")).to_have_text("€37.50")
    shoot(page, "10-report-summary")
    # A second tab opened meanwhile, about to say "nothing sold".
    other_tab = page.context.new_page()
    other_tab.goto(base + "/reports/new/")
    other_tab.get_by_role("button", name="Nothing sold this period").click()
    expect(other_tab.locator("#summary-nothing")).to_be_visible()
    page.get_by_role("button", name="Send this report").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Sales report REP-"))).to_be_visible()
    report = Operation.objects.get(partner=partner, kind=Kind.REPORT)
    assert report.status == Status.RECORDED
    assert [(i.book.title, i.quantity) for i in report.items.all()] == [("Les Misérables", -3)]
    shoot(page, "11-report-page")
    # The second tab's report is refused: one report, and the partner is told why.
    other_tab.get_by_role("button", name="Send this report").click()
    expect(other_tab.get_by_text("was already sent")).to_be_visible()
    assert Operation.objects.filter(partner=partner, kind=Kind.REPORT).count() == 1
    other_tab.close()

    # Ordering is open again.
    page.goto(base + "/")
    expect(page.get_by_text("You can order")).to_be_visible()
    shoot(page, "12-dashboard-can-order")

    for path, name in [
        ("/history/", "13-history"),
        ("/stock/", "14-stock"),
        ("/account/", "15-account"),
        ("/accounts/password_change/", "16-password-change"),
        ("/orders/new/?q=recueil", "17-order-search"),
    ]:
        page.goto(base + path)
        shoot(page, name)
    page.goto(base + "/history/")
    page.get_by_label("Kind").select_option("report")
    expect(page.locator("#history-results")).to_contain_text("1 operation")

    # In French: the language is saved, and money follows the locale.
    page.goto(base + "/account/")
    page.locator("#id_language").select_option("fr")
    page.locator("form[action='/account/language/'] button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(base + "/stock/")
    expect(page.locator(".stock-totals")).to_contain_text("22,40\u00a0€")
    shoot(page, "18-stock-fr")
    page.goto(base + "/")
    shoot(page, "19-dashboard-fr")
    assert csp_errors == []


def test_core_flows_work_without_javascript(browser, live_server, world):
    partner, admin = world["partner"], world["admin"]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page = context.new_page()
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill("libraire@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Order: search by page reload, add, change a quantity, send.
    page.goto(base + "/orders/new/")
    page.get_by_label("Find a book by title, author, ISBN or series").fill("germinal")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=re.compile(r"Add\W+Germinal")).click()
    expect(page.locator(".order-line")).to_have_count(1)
    page.get_by_label("Copies Germinal").fill("6")
    page.get_by_role("button", name="Update totals").click()
    expect(page.locator("#order-totals")).to_contain_text("6 copies")
    page.get_by_role("button", name="Send my order").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Order ORD-"))).to_be_visible()
    order = Operation.objects.get(partner=partner, kind=Kind.ORDER)
    assert [i.quantity for i in order.items.all()] == [6]

    order_approve(order=order, by=admin)
    order_deliver(order=order, by=admin)

    # Report: shelf count, review, send.
    page.goto(base + "/reports/new/")
    page.get_by_label("Still on the shelf Germinal").fill("4")
    page.get_by_role("button", name="Review my report").click()
    expect(page.locator("#summary-copies")).to_have_text("2")
    summary = page.locator("#report form")
    resend = {
        name: summary.locator(f"input[name='{name}']").get_attribute("value")
        for name in summary.locator("input[type=hidden]").evaluate_all(
            "inputs => inputs.map(i => i.name)"
        )
    }
    page.get_by_role("button", name="Send this report").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Sales report REP-"))).to_be_visible()
    # The same summary sent again (back button, double click): refused, nothing twice.
    again = page.request.post(base + "/reports/new/", form={**resend, "action": "submit"})
    assert again.ok
    assert "was already sent" in again.text()
    report = Operation.objects.get(partner=partner, kind=Kind.REPORT)
    assert [i.quantity for i in report.items.all()] == [-2]
    context.close()
