"""Reading a catalogue CSV: one book per row, every row checked before anything is written.

Columns (header row required, any order, English or French names): ISBN, title, authors,
series, price. `;` or `,` separates the columns; the price takes a dot or a comma
(`12,50`); the file is UTF-8, with or without a byte-order mark.
"""

import contextlib
import csv
import io
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from catalog.isbn import normalize_isbn
from catalog.models import Book

MAX_ROWS = 20000
MAX_PRICE = Decimal("999999.99")  # Book.price: 8 digits, 2 decimals

HEADERS = {
    "isbn": {"isbn", "isbn13", "isbn-13", "ean"},
    "title": {"title", "titre"},
    "authors": {"authors", "author", "auteurs", "auteur"},
    "series": {"series", "série", "serie", "collection"},
    "price": {"price", "prix", "price (eur)", "prix (eur)"},
}
REQUIRED = ("isbn", "title", "authors", "price")


@dataclass
class BookRow:
    line: int
    isbn: str = ""
    title: str = ""
    authors: str = ""
    series: str = ""
    price: Decimal | None = None
    errors: list[str] = field(default_factory=list)
    exists: bool = False  # a book with this ISBN is already in the catalogue

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    rows: list[BookRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the whole file

    @property
    def bad_rows(self) -> list[BookRow]:
        return [row for row in self.rows if not row.is_valid]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors and not self.bad_rows

    @property
    def to_create(self) -> int:
        return sum(1 for row in self.rows if not row.exists)

    @property
    def to_update(self) -> int:
        return sum(1 for row in self.rows if row.exists)


def decode(data: bytes) -> str:
    """UTF-8 text of an upload, BOM removed; ValidationError for another encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from error


def parse_price(value: str) -> Decimal:
    text = value.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        price = Decimal(text)
    except InvalidOperation as error:
        raise ValidationError(_("“%(value)s” is not a price.") % {"value": value}) from error
    if not price.is_finite() or price <= 0:
        raise ValidationError(_("The price must be above zero."))
    # Before quantize(), which fails on a number with more digits than the context holds.
    if price > MAX_PRICE:
        raise ValidationError(_("The price is too high."))
    if price != price.quantize(Decimal("0.01")):
        raise ValidationError(_("The price has more than two decimals."))
    return price.quantize(Decimal("0.01"))


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") >= first_line.count(",") else ","


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns, errors = {}, []
    for index, name in enumerate(header):
        key = name.strip().lower()
        for column, names in HEADERS.items():
            if key in names and column not in columns:
                columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        errors.append(
            _("The header row lacks the column(s): %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": "ISBN, title, authors, series, price"}
        )
    return columns, errors


def parse_books_csv(text: str) -> ImportPreview:
    """Every row with its errors; nothing is written here."""
    preview = ImportPreview()
    text = text.lstrip("\ufeff")
    if not text.strip():
        preview.errors.append(_("The file is empty."))
        return preview
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
        columns, preview.errors = _columns(header)
        if preview.errors:
            return preview
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(preview.rows) >= MAX_ROWS:
                preview.errors.append(
                    _("The file has more than %(max)s rows: split it.") % {"max": MAX_ROWS}
                )
                break
            preview.rows.append(_parse_row(reader.line_num, values, columns))
    except csv.Error as error:
        preview.errors.append(
            _("The file is not a readable CSV file: %(error)s") % {"error": error}
        )
        return preview
    _check_duplicates(preview.rows)
    _mark_existing(preview.rows)
    if not preview.rows and not preview.errors:
        preview.errors.append(_("The file has a header row but no book."))
    return preview


def _parse_row(line: int, values: list[str], columns: dict[str, int]) -> BookRow:
    def cell(column):
        index = columns.get(column)
        return values[index].strip() if index is not None and index < len(values) else ""

    row = BookRow(
        line=line,
        isbn=cell("isbn"),
        title=cell("title"),
        authors=cell("authors"),
        series=cell("series"),
    )
    try:
        row.isbn = normalize_isbn(row.isbn)
    except ValidationError as error:
        label = row.isbn or _("(empty)")
        row.errors.append(
            _("ISBN %(isbn)s: %(error)s") % {"isbn": label, "error": error.messages[0]}
        )
    if not row.title:
        row.errors.append(_("The title is missing."))
    if not row.authors:
        row.errors.append(_("The authors are missing."))
    limits = [
        (row.title, 300, _("The title is longer than %(max)s characters.")),
        (row.authors, 300, _("The authors are longer than %(max)s characters.")),
        (row.series, 200, _("The series name is longer than %(max)s characters.")),
    ]
    for value, limit, message in limits:
        if len(value) > limit:
            row.errors.append(message % {"max": limit})
    raw_price = cell("price")
    if not raw_price:
        row.errors.append(_("The price is missing."))
    else:
        try:
            row.price = parse_price(raw_price)
        except ValidationError as error:
            row.errors.append(error.messages[0])
    return row


def _check_duplicates(rows: list[BookRow]) -> None:
    first_line: dict[str, int] = {}
    for row in rows:
        if not row.isbn or len(row.isbn) != 13 or not row.isbn.isdigit():
            continue
        if row.isbn in first_line:
            row.errors.append(
                _("ISBN %(isbn)s already appears on line %(line)s.")
                % {"isbn": row.isbn, "line": first_line[row.isbn]}
            )
        else:
            first_line[row.isbn] = row.line


def _mark_existing(rows: list[BookRow]) -> None:
    isbns = {row.isbn for row in rows if row.is_valid}
    existing = set(Book.objects.filter(isbn__in=isbns).values_list("isbn", flat=True))
    for row in rows:
        row.exists = row.isbn in existing


# -- the uploaded file between its preview and its confirmation ---------------------------
#
# The file stays on the server: sent back in a hidden field, a file over 2.5 MB would pass
# its preview and then be refused at confirmation (DATA_UPLOAD_MAX_MEMORY_SIZE).

STASH_MAX_AGE = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _stash_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def stash_upload(text: str, *, user_id: int) -> str:
    """Keep `text` for its confirmation by the same user; returns the token that names it.
    Stashes older than a day are removed on the way."""
    directory = _stash_dir()
    limit = time.time() - STASH_MAX_AGE
    for old in directory.glob("*.csv"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < limit:
                old.unlink()
    token = secrets.token_urlsafe(24)
    (directory / f"{user_id}-{token}.csv").write_text(text, encoding="utf-8")
    return token


def stashed_upload(token: str, *, user_id: int) -> str | None:
    """The text stashed under `token` by this user, or None (unknown, expired, forged)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    path = _stash_dir() / f"{user_id}-{token}.csv"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def drop_stashed_upload(token: str, *, user_id: int) -> None:
    if isinstance(token, str) and _TOKEN.match(token):
        with contextlib.suppress(OSError):
            (_stash_dir() / f"{user_id}-{token}.csv").unlink()
