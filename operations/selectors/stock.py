"""Stock reads: the copies a partner holds per book (searched and sorted for the portal's
stock page), the partners holding a book, and the totals held."""

import contextlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from operations.models import Item, StockBalance, cents

ZERO_EUR = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def _counting_items() -> QuerySet:
    return Item.objects.counting()


def stock_quantities_for_partner(*, partner: Partner) -> dict[int, int]:
    """{book_id: copies held} for every book the partner holds (one query on the balance)."""
    return StockBalance.objects.held_by(partner=partner)


_VALUE = ExpressionWrapper(
    F("quantity") * F("book__price"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


def stock_for_partner(*, partner: Partner) -> QuerySet:
    """Per book held: copies, reserved copies, free copies, retail value at today's price,
    last delivery and last sale (from the stored balance)."""
    return (
        StockBalance.objects.held()
        .with_free()
        .filter(partner=partner)
        .values(
            "book_id",
            "book__title",
            "book__authors",
            "book__isbn",
            "book__price",
            "book__series__name",
            "quantity",
            "reserved",
            "free",
            "last_delivery_at",
            "last_sale_at",
        )
        .annotate(value=_VALUE)
        .order_by("book__title", "book_id")
    )


# The sorts offered on the portal's stock page: key -> order_by terms (title breaks ties).
STOCK_SORTS = {
    "title": ("book__title", "book_id"),
    "-title": (F("book__title").desc(), F("book_id").desc()),
    "copies": ("quantity", "book__title", "book_id"),
    "-copies": (F("quantity").desc(), "book__title", "book_id"),
    "delivery": (F("last_delivery_at").asc(nulls_first=True), "book__title", "book_id"),
    "-delivery": (F("last_delivery_at").desc(nulls_last=True), "book__title", "book_id"),
    "sale": (F("last_sale_at").asc(nulls_first=True), "book__title", "book_id"),
    "-sale": (F("last_sale_at").desc(nulls_last=True), "book__title", "book_id"),
}


def stock_search_for_partner(*, partner: Partner, query: str = "", sort: str = "title") -> QuerySet:
    """stock_for_partner narrowed to titles matching `query` (title, authors, series, ISBN
    with or without hyphens) and sorted by one of STOCK_SORTS; one indexed query a page."""
    rows = stock_for_partner(partner=partner)
    query = (query or "").strip()
    if query:
        condition = (
            Q(book__title__icontains=query)
            | Q(book__authors__icontains=query)
            | Q(book__series__name__icontains=query)
        )
        digits = query.replace("-", "").replace(" ", "")
        if digits.isdigit() and len(digits) >= 4:
            condition |= Q(book__isbn__contains=digits)
        with contextlib.suppress(ValidationError):  # not an ISBN-10: words only
            condition |= Q(book__isbn=normalize_isbn(query))
        rows = rows.filter(condition)
    return rows.order_by(*STOCK_SORTS.get(sort, STOCK_SORTS["title"]))


def stock_rows_for_books(*, partner: Partner, book_ids) -> dict[int, dict]:
    """{book_id: stock row} for those of `book_ids` the partner holds (one query)."""
    ids = [pk for pk in book_ids if isinstance(pk, int) and 0 < pk < 2**62]
    if not ids:
        return {}
    return {
        row["book_id"]: row for row in stock_for_partner(partner=partner).filter(book_id__in=ids)
    }


def stock_for_book(*, book) -> QuerySet:
    """Per partner holding `book`: copies and retail value."""
    return (
        StockBalance.objects.held()
        .filter(book=book)
        .values("partner_id", "partner__store_name", "quantity")
        .annotate(
            value=ExpressionWrapper(
                F("quantity") * Value(book.price),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .order_by("partner__store_name", "partner_id")
    )


@dataclass(frozen=True)
class StockTotals:
    titles: int
    copies: int
    value: Decimal


def stock_totals(*, partner: Partner | None = None) -> StockTotals:
    """Titles, copies and retail value held, by one partner or by all (one query)."""
    balances = StockBalance.objects.held()
    if partner is not None:
        balances = balances.filter(partner=partner)
    sums = balances.aggregate(
        titles=Count("book_id", distinct=True),
        copies=Coalesce(Sum("quantity"), Value(0), output_field=IntegerField()),
        value=Coalesce(
            Sum(
                F("quantity") * F("book__price"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            ZERO_EUR,
        ),
    )
    return StockTotals(titles=sums["titles"], copies=sums["copies"], value=cents(sums["value"]))


def quantity_sum(items: QuerySet) -> int:
    return items.aggregate(total=Coalesce(Sum("quantity"), Value(0), output_field=IntegerField()))[
        "total"
    ]
