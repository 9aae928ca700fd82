from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from catalog.models import Book
from catalog.selectors import book_search
from catalog.tests.factories import BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db


def test_full_clean_stores_the_isbn_without_hyphens():
    book = Book(isbn="2-07-036822-X", title="L'Étranger", authors="Albert Camus", price="8.40")
    book.full_clean()
    book.save()
    assert Book.objects.get().isbn == "9782070368228"


def test_a_duplicate_isbn_written_differently_is_refused():
    BookFactory(isbn="9782070368228")
    book = Book(isbn="978-2-07-036822-8", title="Copie", authors="X", price="1.00")
    with pytest.raises(ValidationError) as exc:
        book.full_clean()
    assert "isbn" in exc.value.message_dict


@pytest.mark.parametrize("price", ["0", "-1.00"])
def test_a_price_must_be_positive(price):
    book = BookFactory.build(price=Decimal(price))
    with pytest.raises(ValidationError) as exc:
        book.full_clean()
    assert "price" in exc.value.message_dict


def test_the_database_refuses_a_zero_price():
    with pytest.raises(IntegrityError):
        BookFactory(price=Decimal("0"))


def test_a_save_stores_the_13_digits_even_without_full_clean():
    book = BookFactory(isbn="978-2-07-036822-8")
    book.refresh_from_db()
    assert book.isbn == "9782070368228"
    assert Book.objects.filter(isbn="2-07-036822-X").count() == 1
    assert Book.objects.filter(isbn="garbage").count() == 0


def test_the_database_refuses_an_isbn_that_is_not_13_characters():
    with pytest.raises(IntegrityError):
        BookFactory(isbn="not-an-isbn!")  # 12 characters


def test_a_volume_number_needs_a_series():
    book = BookFactory.build(volume_number=2)
    with pytest.raises(ValidationError) as exc:
        book.full_clean()
    assert "volume_number" in exc.value.message_dict


def test_search_finds_by_title_author_series_and_isbn():
    series = SeriesFactory(name="Les Rougon-Macquart")
    germinal = BookFactory(
        title="Germinal", authors="Émile Zola", series=series, isbn="9782070368228"
    )
    BookFactory(title="Autre", authors="Quelqu'un")
    assert list(book_search(query="germ")) == [germinal]
    assert list(book_search(query="zola")) == [germinal]
    assert list(book_search(query="rougon")) == [germinal]
    assert list(book_search(query="978-2-07-036822-8")) == [germinal]
    assert list(book_search(query="207036822X")) == [germinal]
    assert list(book_search(query="036822")) == [germinal]
    assert list(book_search(series_id=series.pk)) == [germinal]


def test_search_can_leave_out_retired_books():
    BookFactory(title="Retired", is_active=False)
    assert book_search(query="Retired").count() == 1
    assert book_search(query="Retired", active_only=True).count() == 0
