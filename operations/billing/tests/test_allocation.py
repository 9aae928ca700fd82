"""The arithmetic of applying money, as a table: oldest due first, or an admin's amounts."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from operations.billing.payment_services import split_explicit, split_oldest_first


def d(value):
    return Decimal(value)


@pytest.mark.parametrize(
    ("amount", "open_amounts", "expected"),
    [
        ("0.00", [("a", "10.00")], []),
        ("10.00", [], []),
        ("10.00", [("a", "10.00")], [("a", "10.00")]),
        ("4.00", [("a", "10.00"), ("b", "5.00")], [("a", "4.00")]),
        ("12.00", [("a", "10.00"), ("b", "5.00")], [("a", "10.00"), ("b", "2.00")]),
        ("15.00", [("a", "10.00"), ("b", "5.00")], [("a", "10.00"), ("b", "5.00")]),
        ("20.00", [("a", "10.00"), ("b", "5.00")], [("a", "10.00"), ("b", "5.00")]),
        ("0.01", [("a", "0.01"), ("b", "5.00")], [("a", "0.01")]),
        ("7.77", [("a", "0.00"), ("b", "5.00"), ("c", "5.00")], [("b", "5.00"), ("c", "2.77")]),
    ],
    ids=[
        "nothing paid",
        "nothing open: all credit",
        "exactly one invoice",
        "part of the oldest",
        "oldest in full, then part of the next",
        "both in full",
        "overpaid: the rest is credit",
        "one cent",
        "a settled invoice is skipped",
    ],
)
def test_money_goes_to_the_oldest_due_invoice_first(amount, open_amounts, expected):
    split = split_oldest_first(d(amount), [(key, d(value)) for key, value in open_amounts])
    assert split == [(key, d(value)) for key, value in expected]
    assert sum((part for _key, part in split), d("0")) <= d(amount)


OPEN = {1: d("10.00"), 2: d("5.00")}


@pytest.mark.parametrize(
    ("requested", "available", "expected"),
    [
        ({1: "10.00"}, "10.00", [(1, "10.00")]),
        ({1: "3.00", 2: "5.00"}, "10.00", [(1, "3.00"), (2, "5.00")]),
        ({1: "0", 2: "5.00"}, "5.00", [(2, "5.00")]),
        ({1: "", 2: "1.50"}, "5.00", [(2, "1.50")]),
        ({1: "1.00"}, "100.00", [(1, "1.00")]),
    ],
    ids=["one invoice in full", "two invoices", "zero dropped", "blank dropped", "rest is credit"],
)
def test_an_admin_applies_any_amounts_within_what_is_open_and_available(
    requested, available, expected
):
    assert split_explicit(requested, OPEN, available=d(available)) == [
        (key, d(value)) for key, value in expected
    ]


@pytest.mark.parametrize(
    ("requested", "available", "message"),
    [
        ({1: "10.01"}, "20.00", "has only 10.00 still to pay"),
        ({1: "10.00", 2: "5.00"}, "14.99", "only 14.99 is available"),
        ({1: "-1.00"}, "20.00", "cannot be negative"),
        ({3: "1.00"}, "20.00", "not open for this partner"),
        ({1: "abc"}, "20.00", "must be a number"),
        ({1: "1.005"}, "20.00", "euros and cents"),
        ({1: "NaN"}, "20.00", "euros and cents"),
    ],
    ids=[
        "over the open amount",
        "over the payment",
        "negative",
        "another invoice",
        "text",
        "a tenth of a cent",
        "not a number",
    ],
)
def test_an_explicit_allocation_beyond_the_rules_is_refused_in_plain_words(
    requested, available, message
):
    with pytest.raises(ValidationError) as refused:
        split_explicit(requested, OPEN, available=d(available))
    assert message in " ".join(refused.value.messages)
