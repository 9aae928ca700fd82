from decimal import Decimal

import pytest

from operations.billing.models import BillingLine, CreditNote
from operations.billing.money import line_amounts, totals_of
from operations.billing.tests.factories import credited_report, invoiced_report

D = Decimal


@pytest.mark.parametrize(
    ("copies", "price", "commission", "vat", "net", "vat_amount"),
    [
        (1, "10.00", "35", "5.5", "6.50", "0.34"),
        (3, "9.99", "35", "5.5", "19.48", "1.02"),  # 29.97 x 0.65 = 19.4805
        (1, "9.99", "33.33", "5.5", "6.66", "0.35"),  # 9.99 x 0.6667 = 6.660333
        (7, "12.45", "33.33", "5.5", "58.10", "3.03"),  # 87.15 x 0.6667 = 58.102905
        (2, "15.00", "0", "5.5", "30.00", "1.56"),  # 30 x 5.5 / 105.5 = 1.5640
        (5, "19.90", "100", "5.5", "0.00", "0.00"),
        (1, "0.01", "50", "5.5", "0.01", "0.00"),  # 0.005 rounds half up
        (4, "22.00", "35", "20", "57.20", "9.53"),  # another VAT rate: 57.2 x 20 / 120
        (9999, "99.99", "35", "5.5", "649870.01", "33879.48"),
    ],
)
def test_one_line_is_rounded_once_half_up(copies, price, commission, vat, net, vat_amount):
    line = line_amounts(
        copies=copies, unit_price=D(price), commission_rate=D(commission), vat_rate=D(vat)
    )
    assert line.gross == D(price) * copies
    assert line.net_incl_vat == D(net)
    assert line.vat == D(vat_amount)
    assert line.net_excl_vat == line.net_incl_vat - line.vat
    assert line.commission == line.gross - line.net_incl_vat


@pytest.mark.parametrize("commission", ["0", "33.33", "35", "100"])
@pytest.mark.parametrize(
    "lines",
    [
        [("9.99", 1)],
        [("9.99", 3), ("12.45", 7), ("0.01", 1)],
        [(f"{n}.{(n * 37) % 100:02d}", n % 9 + 1) for n in range(1, 41)],  # 40 lines
    ],
    ids=["one", "three", "forty"],
)
@pytest.mark.django_db
def test_invoice_totals_equal_the_sum_of_its_lines(partner, commission, lines):
    partner.commission_rate = D(commission)
    partner.save()
    _report, invoice = invoiced_report(partner, *lines)
    rows = list(invoice.lines.all())
    assert len(rows) == len(lines)
    sums = totals_of(rows)
    assert invoice.total_gross == sums.gross == sum(D(p) * c for p, c in lines)
    assert invoice.total_commission == sums.commission
    assert invoice.total_excl_vat == sums.net_excl_vat
    assert invoice.total_vat == sums.vat
    assert invoice.total_incl_vat == sums.net_incl_vat
    assert invoice.total_incl_vat == invoice.total_excl_vat + invoice.total_vat
    assert invoice.total_gross == invoice.total_commission + invoice.total_incl_vat
    for row in rows:
        assert row.commission_rate == D(commission)
        expected = line_amounts(
            copies=row.copies,
            unit_price=row.unit_price,
            commission_rate=row.commission_rate,
            vat_rate=row.vat_rate,
        )
        assert (row.gross, row.net_incl_vat, row.vat) == (
            expected.gross,
            expected.net_incl_vat,
            expected.vat,
        )


@pytest.mark.django_db
def test_a_void_gives_a_credit_note_for_the_exact_amount(partner, admin_user):
    report, invoice, credit_note = credited_report(
        partner, admin_user, ("9.99", 3), ("12.45", 7), ("19.90", 2)
    )
    assert credit_note.credited_invoice == invoice
    assert credit_note.report == report == invoice.report
    for name in ("total_gross", "total_commission", "total_excl_vat", "total_vat"):
        assert getattr(credit_note, name) == getattr(invoice, name)
    assert credit_note.total_incl_vat == invoice.total_incl_vat > 0
    copied = ["isbn", "title", "copies", "unit_price", "net_excl_vat", "vat", "net_incl_vat"]
    assert list(credit_note.lines.values_list(*copied)) == list(invoice.lines.values_list(*copied))
    assert CreditNote.objects.count() == 1
    assert BillingLine.objects.count() == 6
