import pytest
from django.core.exceptions import ValidationError

from catalog.isbn import normalize_isbn


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9782070368228", "9782070368228"),
        ("978-2-07-036822-8", "9782070368228"),
        ("978 2 07 036822 8", "9782070368228"),
        (" 978-2-07-036822-8 ", "9782070368228"),
        ("ISBN 978-2-07-036822-8", "9782070368228"),
        ("207036822X", "9782070368228"),  # ISBN-10 converted
        ("2-07-036822-x", "9782070368228"),
        ("080442957X", "9780804429573"),  # ISBN-10 with X check digit
        ("0-8044-2957-x", "9780804429573"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_valid_isbns_are_normalised_to_13_digits(raw, expected):
    assert normalize_isbn(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("9782070368229", "isbn_checksum"),  # bad ISBN-13 check digit
        ("2070368226", "isbn_checksum"),  # bad ISBN-10 check digit
        ("1234567890123", "isbn_prefix"),
        ("not an isbn", "isbn_invalid"),
        ("97820703682", "isbn_invalid"),
        ("", "isbn_invalid"),
        ("978207036822X", "isbn_invalid"),
        ("٩٧٨٢٠٧٠٣٦٨٢٢٨", "isbn_invalid"),  # non-ASCII digits
    ],
)
def test_invalid_isbns_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        normalize_isbn(raw)
    assert exc.value.code == code
