"""Every CSV export goes through one writer that defuses spreadsheet formulas."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory
from operations.tests.factories import delivered_order, submit_report
from toplivres.csv import ENGLISH, FRENCH, cell

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil";"x")', "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)"]


@pytest.fixture
def hostile(admin_user):
    partner = PartnerFactory(
        user=UserFactory(email="evil@example.com"),
        store_name=FORMULAS[0],
        city=FORMULAS[1],
    )
    book = BookFactory(title=FORMULAS[3], authors=FORMULAS[2], price=Decimal("10.00"))
    delivered_order(partner, (book, 5))
    submit_report(partner, (book, 2))
    return partner


def rows_of(response, delimiter=","):
    assert response.status_code == 200, response.status_code
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def is_number(text):
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


ADMIN_EXPORTS = [
    ("admin:operations_operation_export", {}),
    ("admin:operations_stock", {"by": "book", "format": "csv"}),
    ("admin:operations_stock", {"by": "partner", "format": "csv"}),
    ("admin:operations_analytics", {"table": "partners", "format": "csv"}),
    ("admin:operations_analytics", {"table": "books", "format": "csv"}),
    ("admin:operations_analytics", {"table": "slow", "format": "csv", "days": "1"}),
    ("admin:operations_analytics", {"table": "months", "format": "csv"}),
]


@pytest.mark.parametrize(("name", "params"), ADMIN_EXPORTS)
def test_no_admin_export_writes_a_live_formula(admin_client, hostile, name, params):
    rows = rows_of(admin_client.get(reverse(name), params))
    for row in rows:
        for value in row:
            assert is_number(value) or not value.startswith(("=", "+", "-", "@")), (name, value)


def test_the_operations_export_keeps_the_defused_values(admin_client, hostile):
    rows = rows_of(admin_client.get(reverse("admin:operations_operation_export")))
    assert "'" + FORMULAS[0] in rows[1]
    assert "'" + FORMULAS[3] in rows[1]


def test_the_partner_analytics_keep_the_defused_city(admin_client, hostile):
    params = {"table": "partners", "format": "csv"}
    rows = rows_of(admin_client.get(reverse("admin:operations_analytics"), params))
    assert ["'" + FORMULAS[0], "'" + FORMULAS[1]] == rows[1][:2]


def test_a_cell_keeps_numbers_and_defuses_text():
    assert cell(-3) == -3
    assert cell(Decimal("19.90"), ENGLISH) == "19.90"
    assert cell(Decimal("19.90"), FRENCH) == "19,90"
    assert cell("=1+1") == "'=1+1"
    assert cell("\t=1") == "'\t=1"
    assert cell("Nana") == "Nana"
    assert cell(None) == ""


def test_an_admin_export_in_french_uses_semicolons_and_decimal_commas(admin_client, hostile):
    response = admin_client.get(
        reverse("admin:operations_stock"),
        {"by": "book", "format": "csv"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    rows = rows_of(response, delimiter=";")
    assert rows[1][-1] == "30,00"
