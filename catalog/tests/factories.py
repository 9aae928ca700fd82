from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from catalog.isbn import isbn13_check_digit
from catalog.models import Book, Series


def make_isbn(n: int) -> str:
    first12 = f"978{n:09d}"
    return first12 + isbn13_check_digit(first12)


class SeriesFactory(DjangoModelFactory):
    class Meta:
        model = Series

    name = factory.Sequence(lambda n: f"Collection {n}")


class BookFactory(DjangoModelFactory):
    class Meta:
        model = Book

    isbn = factory.Sequence(lambda n: make_isbn(200000 + n))
    title = factory.Sequence(lambda n: f"Le livre {n}")
    authors = factory.Faker("name", locale="fr_FR")
    price = Decimal("12.50")
    is_active = True
