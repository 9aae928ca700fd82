"""Writes to the catalogue that go beyond one admin form."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from catalog.imports import BookRow
from catalog.models import Book, Series


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    series_created: int


@transaction.atomic
def books_import(*, rows: list[BookRow]) -> ImportResult:
    """Create or update each book by ISBN, series created by name: all rows or none.

    Rows come from catalog.imports.parse_books_csv; a row with errors stops everything.
    An empty series cell keeps an existing book's series; volume numbers (unless the series
    changes) and the active flag of existing books are kept.
    """
    bad = [row.line for row in rows if not row.is_valid]
    if bad:
        raise ValidationError(
            _("Rows with errors: %(lines)s. Nothing was imported.")
            % {"lines": ", ".join(map(str, bad))}
        )
    series_names = {row.series for row in rows if row.series}
    series = {s.name: s for s in Series.objects.filter(name__in=series_names)}
    series_created = 0
    for name in sorted(series_names - set(series)):
        series[name] = Series.objects.create(name=name)
        series_created += 1
    existing = Book.objects.select_for_update().in_bulk(
        [row.isbn for row in rows], field_name="isbn"
    )
    created = updated = 0
    for row in rows:
        book = existing.get(row.isbn)
        if book is None:
            book = Book(isbn=row.isbn)
            created += 1
        else:
            updated += 1
        book.title = row.title
        book.authors = row.authors
        book.price = row.price
        if row.series and book.series_id != series[row.series].pk:
            book.series = series[row.series]
            book.volume_number = None  # a volume number belongs to its series
        try:
            book.full_clean()
        except ValidationError as error:
            raise ValidationError(
                _("Line %(line)s: %(error)s")
                % {"line": row.line, "error": " ".join(error.messages)}
            ) from error
        book.save()
    return ImportResult(created=created, updated=updated, series_created=series_created)
