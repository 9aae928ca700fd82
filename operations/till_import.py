"""Reading a shop's till export for a sales report: a CSV or XLSX file with an ISBN column
and a copies column, in French or English, `;` or `,` separated. Nothing here writes.

The file is read into a table of text cells (`read_table`), then checked line by line
against the catalogue and the partner's free stock (`till_preview`): each line is accepted
or refused with its reason. Lines of the same ISBN are added up (a till lists each sale).
XLSX is read with the standard library (an XLSX file is a zip of XML sheets): the project's
xlsx module only writes, and openpyxl is not a dependency.
"""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree  # noqa: S405  (files with a DTD are refused before parsing)

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from catalog.isbn import normalize_isbn
from catalog.models import Book
from operations.models import Stock, StockBalance

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
HEADER_SEARCH_ROWS = 10  # a till export may start with a title or a date range
MAX_XML_BYTES = 40 * 1024 * 1024  # unzipped: a 2 MB zip cannot unfold into gigabytes

# Header names, compared without case, accents, spaces or punctuation.
ISBN_NAMES = {
    "isbn",
    "isbn13",
    "isbn10",
    "ean",
    "ean13",
    "gencod",
    "gencode",
    "codebarre",
    "codebarres",
    "codeean",
    "codeisbn",
    "barcode",
}
COPIES_NAMES = {
    "copies",
    "copiessold",
    "qty",
    "qte",
    "qt",
    "quantity",
    "quantite",
    "quantitevendue",
    "quantitesvendues",
    "qtevendue",
    "sold",
    "unitssold",
    "units",
    "vendus",
    "ventes",
    "nombre",
    "nb",
    "nbex",
    "exemplaires",
    "exemplairesvendus",
}


def _header_key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


# -- reading the file ------------------------------------------------------------------------


def read_table(name: str, data: bytes) -> list[list[str]]:
    """The file's rows as lists of text; ValidationError with a plain reason otherwise."""
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04") or name.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # an older French till
    if "\x00" in text:
        raise ValidationError(_("This file is not a CSV or Excel (.xlsx) file."))
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    try:
        rows = []
        for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(values)
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                break
        return rows
    except csv.Error as error:
        raise ValidationError(
            _("The file is not a readable CSV file: %(error)s") % {"error": error}
        ) from error


_NOT_XLSX = _("This file is not a readable Excel (.xlsx) file. Save it again as .xlsx or CSV.")


def _xml(archive: zipfile.ZipFile, name: str):
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ValidationError(_("The Excel file is too large once unpacked: save it as CSV."))
    content = archive.read(name)
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise ValidationError(_NOT_XLSX)
    return ElementTree.fromstring(content)  # noqa: S314  (no DTD: checked above)


def _column_index(ref: str) -> int:
    index = 0
    for char in re.match(r"[A-Z]*", ref).group():
        index = index * 26 + ord(char) - 64
    return index - 1


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first worksheet's cells as text (shared, inline and number cells)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            sheets = sorted(
                (n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                key=lambda n: int(re.search(r"\d+", n).group()),
            )
            if not sheets:
                raise ValidationError(_NOT_XLSX)
            shared = []
            if "xl/sharedStrings.xml" in names:
                for item in _xml(archive, "xl/sharedStrings.xml").iterfind("{*}si"):
                    shared.append("".join(t.text or "" for t in item.iterfind(".//{*}t")))
            rows = []
            for row in _xml(archive, sheets[0]).iterfind(".//{*}row"):
                cells: dict[int, str] = {}
                for position, cell in enumerate(row.iterfind("{*}c")):
                    ref = cell.get("r") or ""
                    column = _column_index(ref) if ref[:1].isalpha() else position
                    kind, value = cell.get("t"), cell.find("{*}v")
                    if kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iterfind(".//{*}t"))
                    elif value is None or value.text is None:
                        continue
                    elif kind == "s":
                        text = shared[int(value.text)]
                    else:
                        text = value.text
                    if 0 <= column < 1000:
                        cells[column] = text
                rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
                if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                    break
            return rows
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, ElementTree.ParseError) as error:
        raise ValidationError(_NOT_XLSX) from error
    except (RuntimeError, NotImplementedError, EOFError, OSError) as error:
        # An encrypted or oddly compressed workbook.
        raise ValidationError(_NOT_XLSX) from error


# -- checking the lines ----------------------------------------------------------------------


@dataclass
class Accepted:
    book_id: int
    title: str
    isbn: str
    copies: int
    lines: list[int] = field(default_factory=list)


@dataclass
class Refused:
    lines: list[int]
    value: str
    reason: str


@dataclass
class TillPreview:
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def copies(self) -> int:
        return sum(line.copies for line in self.accepted)


def find_columns(rows: list[list[str]]) -> tuple[int, int, int]:
    """(header row index, ISBN column, copies column) or ValidationError."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(cell) for cell in row]
        isbn = next((i for i, key in enumerate(keys) if key in ISBN_NAMES), None)
        copies = next((i for i, key in enumerate(keys) if key in COPIES_NAMES), None)
        if isbn is not None and copies is not None:
            return index, isbn, copies
    raise ValidationError(
        _(
            "No header row with an ISBN column and a copies column was found. Name them, "
            "for example, “ISBN” (or “EAN”) and “Quantité” (or “Copies”)."
        )
    )


def _parse_copies(value: str) -> int | None:
    text = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    number = int(number)
    return number if 1 <= number <= settings.MAX_ITEM_QUANTITY else None


def _isbn_text(value: str) -> str:
    """An ISBN cell as typed, or as a spreadsheet wrote a number (9.78207036002E+12)."""
    text = value.strip()
    if re.fullmatch(r"\d+\.0+|\d(\.\d+)?E\+\d+", text, flags=re.IGNORECASE):
        try:
            return str(int(Decimal(text)))
        except InvalidOperation:
            return text
    return text


def till_preview(*, partner, rows: list[list[str]]) -> TillPreview:
    """Each line of the table accepted or refused (with its reason), three queries."""
    header, isbn_col, copies_col = find_columns(rows)
    preview = TillPreview()
    wanted: dict[str, list[tuple[int, int]]] = {}  # isbn -> [(line, copies)]
    raw_isbn: dict[str, str] = {}
    body = rows[header + 1 :]
    if len(body) > MAX_ROWS:
        raise ValidationError(
            _("The file has more than %(max)s lines: split it.") % {"max": MAX_ROWS}
        )
    for offset, row in enumerate(body):
        line = header + offset + 2  # as a spreadsheet numbers it
        isbn_cell = _isbn_text(row[isbn_col]) if isbn_col < len(row) else ""
        copies_cell = row[copies_col].strip() if copies_col < len(row) else ""
        if not isbn_cell and not copies_cell:
            continue
        try:
            isbn = normalize_isbn(isbn_cell)
        except ValidationError as error:
            reason = _("not an ISBN (%(error)s)") % {"error": error.messages[0]}
            preview.refused.append(Refused([line], isbn_cell[:40], reason))
            continue
        copies = _parse_copies(copies_cell)
        if copies is None:
            reason = _("“%(value)s” is not a number of copies (a whole number from 1 to %(max)s)")
            reason %= {"value": copies_cell[:20], "max": settings.MAX_ITEM_QUANTITY}
            preview.refused.append(Refused([line], isbn_cell[:40], reason))
            continue
        wanted.setdefault(isbn, []).append((line, copies))
        raw_isbn.setdefault(isbn, isbn_cell[:40])
    books = {
        book.isbn: book for book in Book.objects.filter(isbn__in=list(wanted)).only("isbn", "title")
    }
    stocks = StockBalance.objects.stock_of(partner=partner)
    for isbn, found in wanted.items():
        lines = [line for line, _n in found]
        copies = sum(copies for _line, copies in found)
        book = books.get(isbn)
        if book is None:
            reason = _("no book with this ISBN in the catalogue")
            preview.refused.append(Refused(lines, raw_isbn[isbn], reason))
            continue
        stock = stocks.get(book.pk, Stock())
        reason = stock.refusal(
            copies,
            none=_("you hold no copies of %(title)s"),
            reserved=_(
                "%(copies)s copies of %(title)s sold, but you hold %(held)s, %(reserved)s "
                "of them set aside for a return"
            ),
            short=_("%(copies)s copies of %(title)s sold, but you hold %(held)s"),
        )
        if reason is None:
            preview.accepted.append(Accepted(book.pk, book.title, isbn, copies, lines))
            continue
        reason %= {
            "copies": copies,
            "title": book.title,
            "held": stock.held,
            "reserved": stock.reserved,
        }
        preview.refused.append(Refused(lines, raw_isbn[isbn], reason))
    preview.accepted.sort(key=lambda line: line.lines[0])
    preview.refused.sort(key=lambda line: line.lines[0])
    return preview
