"""Every export is also offered as .xlsx: the same rows, numbers as numbers, text never run
as a formula."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory
from operations.tests.factories import delivered_order, submit_report

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def shelf(admin_user):
    partner = PartnerFactory(user=UserFactory(email="x@example.com"), store_name="=HYPERLINK(1)")
    book = BookFactory(title="@SUM(A1)", price=Decimal("19.90"))
    delivered_order(partner, (book, 3))
    submit_report(partner, (book, 1))
    return partner


def sheet_xml(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            workbook.read("xl/sharedStrings.xml").decode()
            if any(name == "xl/sharedStrings.xml" for name in workbook.namelist())
            else ""
        )
    return sheet + strings


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("admin:operations_operation_export", {"format": "xlsx"}),
        ("admin:operations_operation_export", {"format": "xlsx", "kind__exact": "order"}),
        ("admin:operations_stock", {"by": "book", "format": "xlsx"}),
        ("admin:operations_stock", {"by": "partner", "format": "xlsx"}),
        ("admin:operations_analytics", {"table": "partners", "format": "xlsx"}),
        ("admin:operations_analytics", {"table": "books", "format": "xlsx"}),
        ("admin:operations_analytics", {"table": "months", "format": "xlsx"}),
    ],
)
def test_admin_exports_as_xlsx_keep_formulas_as_text(admin_client, shelf, name, params):
    xml = sheet_xml(admin_client.get(reverse(name), params))
    assert "<f>" not in xml  # no formula cell anywhere


def test_the_operations_xlsx_holds_the_rows(admin_client, shelf):
    xml = sheet_xml(
        admin_client.get(reverse("admin:operations_operation_export"), {"format": "xlsx"})
    )
    assert "=HYPERLINK(1)" in xml and "@SUM(A1)" in xml
    assert "<v>19.9</v>" in xml


def test_the_portal_stock_as_xlsx(client, shelf):
    client.force_login(shelf.user)
    xml = sheet_xml(client.get(reverse("operations:stock_xlsx")))
    assert "@SUM(A1)" in xml
    assert "<v>2</v>" in xml
