"""Stock across partners, for the back office.

Stock held by a partner for a book is the sum of its counting items (see selectors). Here the
positive (partner, book) pairs are read in one grouped query and folded per book or per
partner, so that a partner counts as holding a book only while it has copies left.
"""

import contextlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.lookups import GreaterThan

from catalog.isbn import normalize_isbn
from operations.models import BookStockTotal, PartnerStockTotal, StockBalance
from operations.selectors import cents


@dataclass
class StockRow:
    """Copies held and their retail value (today's price), for one book or one partner."""

    pk: int
    label: str
    detail: str = ""
    copies: int = 0
    value: Decimal | None = Decimal("0.00")  # None: not priced on a page of partners
    spread: int = 0  # partners holding the book, or titles the partner holds


@dataclass(frozen=True)
class StockFilters:
    series_id: int | None = None
    partner_id: int | None = None
    book_id: int | None = None
    query: str = ""
    sort: str = ""  # "" by name, or one of STOCK_SORTS: the largest first


STOCK_SORTS = ("copies", "spread", "value")


def _isbn_or_text(query: str, *, title: str, authors: str, isbn: str) -> Q:
    condition = (
        Q(**{f"{title}__icontains": query})
        | Q(**{f"{authors}__icontains": query})
        | Q(**{f"{isbn}__contains": query.replace("-", "").replace(" ", "")})
    )
    with contextlib.suppress(ValidationError):
        condition |= Q(**{isbn: normalize_isbn(query)})
    return condition


def _held(filters: StockFilters) -> QuerySet:
    """The stored balances with copies held, within the filters."""
    held = StockBalance.objects.held()
    if filters.series_id:
        held = held.filter(book__series_id=filters.series_id)
    if filters.partner_id:
        held = held.filter(partner_id=filters.partner_id)
    if filters.book_id:
        held = held.filter(book_id=filters.book_id)
    query = (filters.query or "").strip()
    if query:
        held = held.filter(
            _isbn_or_text(query, title="book__title", authors="book__authors", isbn="book__isbn")
            | Q(partner__store_name__icontains=query)
        )
    return held


_MONEY = DecimalField(max_digits=14, decimal_places=2)
_HELD_VALUE = Sum(F("quantity") * F("book__price"), output_field=_MONEY)


class StockTable:
    """Stock per book or per partner in label order (or largest first, see `STOCK_SORTS`):
    sliced by a paginator one page at a time, or iterated whole for a CSV.

    `values_of`, when given, prices the rows of the CSV, a chunk at a time, in one query
    each: the per-partner rollup keeps copies, not their value at today's prices, and pricing
    a page of partners would sum every title they hold. A page of such rows has no value
    (`priced_pages` is False); a partner's own page (the partner filter) prices each title."""

    def __init__(
        self,
        grouped: QuerySet,
        *,
        key: str,
        label: str,
        detail: str,
        spread: str,
        values_of=None,
    ):
        self.grouped = grouped
        self.names = (key, label, detail, spread)
        self.values_of = values_of
        self.priced_pages = values_of is None

    def _rows(self, groups: list[dict], *, priced: bool = True) -> list[StockRow]:
        key, label, detail, spread = self.names
        prices = {}
        if self.values_of and priced:
            prices = self.values_of([values[key] for values in groups])
        return [
            StockRow(
                pk=values[key],
                label=values[label],
                detail=values[detail],
                copies=values["copies"],
                value=(
                    cents(values["value"])
                    if not self.values_of
                    else cents(prices.get(values[key], 0))
                    if priced
                    else None
                ),
                spread=values["spread"],
            )
            for values in groups
        ]

    def count(self) -> int:
        return self.grouped.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(list(self.grouped[index]), priced=self.priced_pages)
        return self._rows([self.grouped[index]], priced=self.priced_pages)[0]

    def __iter__(self):
        chunk = []
        for values in self.grouped.iterator(chunk_size=2000):
            chunk.append(values)
            if len(chunk) == 2000:
                yield from self._rows(chunk)
                chunk = []
        yield from self._rows(chunk)


def _ordered(grouped: QuerySet, filters: StockFilters, *, label: str, key: str) -> QuerySet:
    if filters.sort in STOCK_SORTS and filters.sort in grouped.query.annotations:
        return grouped.order_by(f"-{filters.sort}", label, key)
    return grouped.order_by(label, key)


def _value_per_partner(partner_ids) -> dict[int, Decimal]:
    rows = (
        StockBalance.objects.held()
        .filter(partner_id__in=partner_ids)
        .values("partner_id")
        .annotate(value=_HELD_VALUE)
        .order_by()
    )
    return {row["partner_id"]: row["value"] for row in rows}


# `held + 0 > 0`: the rows of `held > 0`, read without the index on held, so that a page in
# title order walks the books' title index and stops with the page (SQLite would otherwise
# take every book held through that index and sort them all).
_HOLDING = GreaterThan(F("held") + Value(0), 0)


def _books_held(filters: StockFilters) -> QuerySet:
    """The per-book rollup rows with copies held, within the filters that name books."""
    books = BookStockTotal.objects.filter(_HOLDING)
    if filters.series_id:
        books = books.filter(book__series_id=filters.series_id)
    if filters.book_id:
        books = books.filter(book_id=filters.book_id)
    query = (filters.query or "").strip()
    if query:
        books = books.filter(
            _isbn_or_text(query, title="book__title", authors="book__authors", isbn="book__isbn")
        )
    return books


def _partners_holding(filters: StockFilters) -> QuerySet:
    """The per-partner rollup rows with copies held, searched by store name or city."""
    partners = PartnerStockTotal.objects.filter(_HOLDING)
    query = (filters.query or "").strip()
    if query:
        partners = partners.filter(
            Q(partner__store_name__icontains=query) | Q(partner__city__icontains=query)
        )
    return partners


def stock_per_book(filters: StockFilters) -> StockTable:
    """One row per book held by at least one partner (within the filters), by title.

    Read from the per-book rollup, one row per book; for one partner's books, from that
    partner's balances (an indexed read of one partner). The search looks for the book."""
    if filters.partner_id:
        grouped = (
            _held(filters)
            .values("book_id", "book__title", "book__isbn")
            .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("partner_id"))
        )
    else:
        grouped = (
            _books_held(filters)
            .annotate(
                copies=F("held"),
                value=ExpressionWrapper(F("held") * F("book__price"), output_field=_MONEY),
                spread=F("partners"),
            )
            .values("book_id", "book__title", "book__isbn", "copies", "value", "spread")
        )
    return StockTable(
        _ordered(grouped, filters, label="book__title", key="book_id"),
        key="book_id",
        label="book__title",
        detail="book__isbn",
        spread="spread",
    )


def stock_per_partner(filters: StockFilters) -> StockTable:
    """One row per partner holding copies (within the filters), by store name.

    Read from the per-partner rollup, one row per partner, its retail value priced for the
    rows shown; for the holders of one book or one series, from those books' balances. The
    search looks for the partner (store name or city)."""
    if filters.book_id or filters.series_id or filters.partner_id:
        grouped = (
            _held(filters)
            .values("partner_id", "partner__store_name", "partner__city")
            .annotate(copies=Sum("quantity"), value=_HELD_VALUE, spread=Count("book_id"))
        )
        values_of = None
    else:
        grouped = (
            _partners_holding(filters)
            .annotate(copies=F("held"), spread=F("titles"))
            .values("partner_id", "partner__store_name", "partner__city", "copies", "spread")
        )
        values_of = _value_per_partner
    return StockTable(
        _ordered(grouped, filters, label="partner__store_name", key="partner_id"),
        key="partner_id",
        label="partner__store_name",
        detail="partner__city",
        spread="spread",
        values_of=values_of,
    )


def stock_summary(filters: StockFilters, *, by_partner: bool = False) -> dict:
    """Copies and retail value held within the filters (one aggregate): from the per-book
    rollup, or from the balances of the partner (or the partners searched) concerned."""
    if filters.partner_id or (by_partner and (filters.book_id or filters.series_id)):
        sums = _held(filters).aggregate(copies=Sum("quantity"), value=_HELD_VALUE)
    elif by_partner and (filters.query or "").strip():
        sums = (
            StockBalance.objects.held()
            .filter(partner_id__in=_partners_holding(filters).values("partner_id"))
            .aggregate(copies=Sum("quantity"), value=_HELD_VALUE)
        )
    else:
        sums = _books_held(filters).aggregate(
            copies=Sum("held"),
            value=Sum(F("held") * F("book__price"), output_field=_MONEY),
        )
    return {"copies": sums["copies"] or 0, "value": cents(sums["value"] or 0)}
