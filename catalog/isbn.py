"""ISBN parsing: hyphens and spaces stripped, ISBN-10 converted, checksums validated."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]")


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_is_valid(isbn10: str) -> bool:
    if not re.fullmatch(r"\d{9}[\dX]", isbn10):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(isbn10))
    return total % 11 == 0


def normalize_isbn(value) -> str:
    """Return the ISBN-13 digits of `value`, or raise ValidationError."""
    raw = _SEPARATORS.sub("", str(value or "")).upper()
    if raw.startswith("ISBN"):
        raw = raw[4:].lstrip(":")
    if len(raw) == 10:
        if not isbn10_is_valid(raw):
            raise ValidationError(_("This ISBN-10 has a wrong check digit."), code="isbn_checksum")
        first12 = "978" + raw[:9]
        return first12 + isbn13_check_digit(first12)
    if re.fullmatch(r"[0-9]{13}", raw):
        if not raw.startswith(("978", "979")):
            raise ValidationError(_("An ISBN-13 starts with 978 or 979."), code="isbn_prefix")
        if isbn13_check_digit(raw[:12]) != raw[12]:
            raise ValidationError(_("This ISBN-13 has a wrong check digit."), code="isbn_checksum")
        return raw
    raise ValidationError(
        _("Enter an ISBN of 13 digits (or 10 characters), hyphens allowed."), code="isbn_invalid"
    )
