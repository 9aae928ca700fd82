"""A return in a real browser: the partner asks to send copies back on a phone-sized page
and ships the parcel; the publisher receives it in the admin; the partner's stock follows."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AdminUserFactory, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory
from operations.ledger import check_ledger
from operations.models import Operation, Status, StockBalance
from operations.tests.factories import delivered_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(django_settings.BASE_DIR) / "screenshots"


def shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def stocked(db):
    partner = PartnerFactory(
        user=UserFactory(email="libraire@example.com", language="en"),
        store_name="La Bouquinerie du Port",
    )
    admin = AdminUserFactory(email="editeur@example.com", full_name="Éditions Test")
    book = BookFactory(title="Les Misérables", authors="Victor Hugo", price=Decimal("12.50"))
    delivered_order(partner, (book, 5), admin=admin)
    return {"partner": partner, "admin": admin, "book": book}


def test_a_return_requested_on_a_phone_shipped_and_received(browser, live_server, stocked):
    partner, book = stocked["partner"], stocked["book"]
    base = live_server.url
    phone = browser.new_context(viewport={"width": 375, "height": 740})
    page = phone.new_page()
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill("libraire@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="La Bouquinerie du Port")).to_be_visible()

    # From the stock page: keep 3 on the shelf, so 2 go back.
    page.goto(base + "/stock/")
    page.get_by_role("link", name="Return copies").click()
    expect(page.get_by_role("heading", name="Return copies")).to_be_visible()
    page.get_by_label("Keep on the shelf Les Misérables").fill("3")
    shoot(page, "20-return-form")
    page.get_by_role("button", name="Request the return").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Return RET-"))).to_be_visible()
    ret = Operation.objects.returns().get(partner=partner)
    assert ret.items.get().requested == 2
    page.goto(base + "/stock/")
    expect(page.locator(".reserved-note")).to_contain_text("2 set aside for a return")
    page.goto(base + f"/returns/{ret.pk}/")
    page.get_by_label("Carrier reference (optional)").fill("6A0001")
    shoot(page, "21-return-page")
    page.get_by_role("button", name="Parcel shipped").click()
    expect(page.locator("#return-status")).to_contain_text("Shipped")
    assert Operation.objects.get(pk=ret.pk).status == Status.SHIPPED

    # The publisher receives it: 2 listed, 2 received, 1 damaged.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    admin_page = desk.new_page()
    admin_page.goto(base + "/admin/login/")
    admin_page.locator("#id_username").fill("editeur@example.com")
    admin_page.locator("#id_password").fill(PASSWORD)
    admin_page.locator("input[type=submit]").click()
    admin_page.get_by_role("link", name="Returns to receive").click()
    admin_page.get_by_role("link", name=ret.reference).click()
    admin_page.get_by_role("link", name="Receive…").click()
    admin_page.get_by_label(re.compile(r"Les Misérables: of them damaged")).fill("1")
    admin_page.get_by_role("button", name="Receive").click()
    expect(admin_page.locator(".messagelist")).to_contain_text("received: the stock is updated")
    ret.refresh_from_db()
    assert ret.status == Status.RECEIVED
    assert StockBalance.objects.get(partner=partner, book=book).quantity == 3

    # The partner sees its stock on the dashboard.
    page.goto(base + "/")
    expect(page.locator("#figures-returned")).to_have_text("2")
    shoot(page, "22-dashboard-after-return")
    assert check_ledger() == []
    desk.close()
    phone.close()
