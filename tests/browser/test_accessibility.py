"""axe-core on every portal page (phone and desktop widths) and on the admin's own pages:
no serious or critical violation. axe-core comes from npm (`make browser` installs it into
node_modules); it is evaluated in the page by Playwright, never served by the site."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from accounts.tests.factories import PASSWORD, AdminUserFactory, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory, SeriesFactory
from operations.services import order_approve
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [375, 1280]
SEVERE = {"serious", "critical"}


def severe_violations(page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in SEVERE
    ]


@pytest.fixture
def world(db):
    series = SeriesFactory(name="Les Rougon-Macquart")
    germinal = BookFactory(title="Germinal", price=Decimal("9.90"), series=series)
    nana = BookFactory(title="Nana", price=Decimal("8.00"), series=series)
    partner = PartnerFactory(
        user=UserFactory(email="a11y@example.com", language="en"), store_name="Librairie A11y"
    )
    admin = AdminUserFactory(email="a11y-admin@example.com")
    delivered = delivered_order(partner, (germinal, 4), (nana, 2), admin=admin)
    report = submit_report(partner, (germinal, 1))
    pending = place_order(partner, (nana, 1))
    other = PartnerFactory(user=UserFactory(email="a11y2@example.com"))
    approved = order_approve(order=place_order(other, (germinal, 1)), by=admin)
    return {
        "partner": partner,
        "admin": admin,
        "book": germinal,
        "delivered": delivered,
        "report": report,
        "pending": pending,
        "approved": approved,
    }


@pytest.fixture
def axe_context(browser):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make browser` (npm install axe-core).")
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def check_pages(page, base, paths, widths):
    problems = {}
    for path in paths:
        for width in widths:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(base + path)
            page.wait_for_load_state()
            found = severe_violations(page)
            if found:
                problems[f"{path} @ {width}px"] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def test_anonymous_pages_have_no_serious_accessibility_violation(axe_context, live_server, world):
    page = axe_context.new_page()
    paths = ["/accounts/login/", "/accounts/password_reset/", "/accounts/password_reset/done/"]
    check_pages(page, live_server.url, paths, WIDTHS)


def test_portal_pages_have_no_serious_accessibility_violation(axe_context, live_server, world):
    page = axe_context.new_page()
    base = live_server.url
    log_in(page, base, "a11y@example.com")
    paths = [
        "/",
        "/catalogue/",
        "/catalogue/?q=germ",
        "/orders/new/",
        f"/orders/{world['pending'].pk}/",
        f"/orders/{world['pending'].pk}/cancel/",
        f"/orders/{world['delivered'].pk}/",
        f"/reports/{world['report'].pk}/",
        "/history/",
        "/stock/",
        "/stock/?q=germ&o=-copies",
        "/billing/",
        "/billing/statement/",
        "/account/",
        "/accounts/password_change/",
        "/no-such-page/",
    ]
    check_pages(page, base, paths, WIDTHS)


def test_the_report_form_has_no_serious_accessibility_violation(axe_context, live_server, world):
    from operations.services import order_cancel

    order_cancel(order=world["pending"], by=world["partner"].user)
    page = axe_context.new_page()
    log_in(page, live_server.url, "a11y@example.com")
    paths = ["/reports/new/", "/reports/new/scan/", "/reports/new/import/"]
    check_pages(page, live_server.url, paths, WIDTHS)


def test_the_admins_own_pages_have_no_serious_accessibility_violation(
    axe_context, live_server, world
):
    page = axe_context.new_page()
    base = live_server.url
    log_in(page, base, "a11y-admin@example.com")
    approved, report = world["approved"].pk, world["report"].pk
    paths = [
        "/admin/",
        "/admin/operations/operation/",
        f"/admin/operations/operation/{approved}/change/",
        f"/admin/operations/operation/{approved}/deliver/",
        f"/admin/operations/operation/{approved}/reject/",
        f"/admin/operations/operation/{report}/void/",
        "/admin/operations/operation/stock/",
        "/admin/operations/operation/stock/?by=partner",
        "/admin/operations/operation/analytics/",
        "/admin/operations/notification/",
        "/admin/accounts/partner/",
        "/admin/accounts/partner/add/",
        f"/admin/accounts/partner/{world['partner'].pk}/change/",
        f"/admin/accounts/partner/{world['partner'].pk}/suspend/",
        "/admin/catalog/book/",
        f"/admin/catalog/book/{world['book'].pk}/change/",
        "/admin/catalog/book/import/",
        "/admin/catalog/series/",
        "/admin/operations/payment/",
        f"/admin/operations/payment/record/{world['partner'].pk}/",
        f"/admin/operations/payment/account/{world['partner'].pk}/",
        "/admin/operations/payment/receivables/",
    ]
    check_pages(page, base, paths, [1280])
