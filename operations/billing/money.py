"""The one rounding rule of invoices and credit notes.

Per line, in this order:

1. gross = copies x retail unit price incl. VAT (exact: prices have two decimals);
2. net due incl. VAT = round_half_up(gross x (1 - commission / 100), to the cent);
3. VAT = round_half_up(net due incl. VAT x rate / (100 + rate), to the cent);
4. net excl. VAT = net due incl. VAT - VAT; commission = gross - net due incl. VAT.

Money is rounded once per line, and every total is the plain sum of its line column, so the
totals always equal the sum of the lines (to the cent, on the screen, the PDF and the XML).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def round_cent(amount) -> Decimal:
    """Round half up to the cent."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # copies x unit price incl. VAT
    commission: Decimal  # gross - net incl. VAT: the bookstore keeps it
    net_incl_vat: Decimal  # due to the publisher for this line
    vat: Decimal
    net_excl_vat: Decimal


def line_amounts(
    *, copies: int, unit_price: Decimal, commission_rate: Decimal, vat_rate: Decimal
) -> LineAmounts:
    """The amounts of one invoice line, by the rounding rule above."""
    unit_price, commission_rate, vat_rate = (
        Decimal(unit_price),
        Decimal(commission_rate),
        Decimal(vat_rate),
    )
    gross = Decimal(int(copies)) * unit_price
    net_incl_vat = round_cent(gross * (HUNDRED - commission_rate) / HUNDRED)
    vat = round_cent(net_incl_vat * vat_rate / (HUNDRED + vat_rate))
    return LineAmounts(
        gross=round_cent(gross),
        commission=round_cent(gross) - net_incl_vat,
        net_incl_vat=net_incl_vat,
        vat=vat,
        net_excl_vat=net_incl_vat - vat,
    )


@dataclass(frozen=True)
class Totals:
    gross: Decimal
    commission: Decimal
    net_incl_vat: Decimal
    vat: Decimal
    net_excl_vat: Decimal


def totals_of(lines) -> Totals:
    """Sum each column of `lines` (LineAmounts or invoice lines with the same attributes)."""
    zero = Decimal("0.00")
    sums = dict.fromkeys(("gross", "commission", "net_incl_vat", "vat", "net_excl_vat"), zero)
    for line in lines:
        for name in sums:
            sums[name] += getattr(line, name)
    return Totals(**sums)


def amount_due_for(lines, *, commission_rate: Decimal) -> Decimal:
    """Due to the publisher incl. VAT for (copies, unit price) pairs: what the invoice will say
    (the VAT rate does not change the amount incl. VAT)."""
    return sum(
        (
            line_amounts(
                copies=copies, unit_price=price, commission_rate=commission_rate, vat_rate=0
            ).net_incl_vat
            for copies, price in lines
        ),
        Decimal("0.00"),
    )
