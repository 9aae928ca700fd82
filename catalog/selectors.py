import contextlib

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from catalog.isbn import normalize_isbn
from catalog.models import Book, Series


def book_search(*, query: str = "", series_id: int | None = None, active_only=False) -> QuerySet:
    """Books matching a free-text query on title, authors, ISBN or series name."""
    books = Book.objects.select_related("series")
    if active_only:
        books = books.active()
    if series_id:
        books = books.filter(series_id=series_id)
    query = (query or "").strip()
    if query:
        condition = (
            Q(title__icontains=query)
            | Q(authors__icontains=query)
            | Q(series__name__icontains=query)
        )
        digits = query.replace("-", "").replace(" ", "")
        if digits.isdigit() and len(digits) >= 4:
            condition |= Q(isbn__contains=digits)
        with contextlib.suppress(ValidationError):  # not an ISBN: search by words only
            condition |= Q(isbn=normalize_isbn(query))
        books = books.filter(condition)
    return books.order_by("title", "pk")


def series_list() -> QuerySet:
    return Series.objects.order_by("name")
