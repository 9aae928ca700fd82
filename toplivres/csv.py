"""The one CSV writer of every export (back office and portal).

- A text cell that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or
  a carriage return) is written with a leading apostrophe: partner-editable values (store
  name, city, notes) and book titles are data, never formulas (OWASP "CSV injection").
- The file opens correctly by default in the reader's spreadsheet: UTF-8 with a BOM, and in
  French the separator is ";" and decimals use a comma (19,90), as French spreadsheets expect.
- Rows are streamed as they are produced, never all held in memory.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import translation

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    decimal_separator: str


ENGLISH = Dialect(delimiter=",", decimal_separator=".")
FRENCH = Dialect(delimiter=";", decimal_separator=",")


def dialect_for(language: str | None = None) -> Dialect:
    language = language or translation.get_language() or "en"
    return FRENCH if language.split("-")[0] == "fr" else ENGLISH


def cell(value, dialect: Dialect = ENGLISH) -> str | int:
    """One value as the spreadsheet should see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        text = str(value)
        return text.replace(".", dialect.decimal_separator)
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    """The pseudo-buffer of Django's "streaming large CSV files" recipe."""

    def write(self, value):
        return value


def csv_lines(*, header: Iterable, rows: Iterable, dialect: Dialect) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter)
    # The BOM lets spreadsheet software read the file as UTF-8.
    yield "\ufeff" + writer.writerow([cell(value, dialect) for value in header])
    for row in rows:
        yield writer.writerow([cell(value, dialect) for value in row])


def csv_response(*, filename: str, header: Iterable, rows: Iterable) -> StreamingHttpResponse:
    """A streamed CSV download in the active language's spreadsheet dialect."""
    dialect = dialect_for()
    response = StreamingHttpResponse(
        csv_lines(header=header, rows=rows, dialect=dialect),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


FORMATS = ("csv", "xlsx")


def table_response(*, fmt: str, stem: str, header: Iterable, rows: Iterable):
    """`stem`.csv (this module) or `stem`.xlsx (toplivres.xlsx), from the same rows."""
    if fmt == "xlsx":
        from toplivres.xlsx import xlsx_response

        return xlsx_response(filename=f"{stem}.xlsx", header=header, rows=rows)
    return csv_response(filename=f"{stem}.csv", header=header, rows=rows)
