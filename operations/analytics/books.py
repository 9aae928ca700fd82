"""Sales analytics per book: the best sellers of the period, and the slow movers on the
partners' shelves. How sales are read: see `sales`."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Rank
from django.utils import timezone

from operations.analytics.sales import (
    _REVENUE,
    _SOLD,
    BEST_SELLERS_LIMIT,
    SLOW_MOVERS_LIMIT,
    SalesFilters,
    SalesRow,
    _sales_items,
    _split,
)
from operations.models import (
    BookSalesMonth,
    BookSalesTrailing,
    PartnerBookSalesMonth,
    StockBalance,
)
from operations.selectors import cents

_BOOK_KEY = ExpressionWrapper(F("book_id") + Value(0), output_field=IntegerField())


def best_sellers(
    filters: SalesFilters, *, limit: int | None = BEST_SELLERS_LIMIT
) -> list[SalesRow]:
    """Books by copies sold in the period, then by revenue, then by title; the first `limit`
    (every book sold with limit=None).

    Whole months are summed from the monthly rollup per book, grouped by book alone (no join
    per row), or read summed from the trailing rollup when the period is the trailing twelve
    months; titles are read for the books that can make the cut only."""
    split = _split(filters)
    sums: dict[int, list] = {}  # book id -> [copies sold, revenue]
    if filters.partner_id or not split.first_month:
        # One partner's sales (bounded by that partner), or less than a whole month.
        parts = [filters]
    else:
        if filters.window:
            # The trailing twelve months, one row per book, read along their index by copies
            # sold: the books selling at least as many copies as the `limit`-th one.
            grouped = BookSalesTrailing.objects.filter(window=filters.window, sold__gt=0)
            if limit is not None and limit > 0:
                nth = grouped.order_by("-sold").values("sold")[limit - 1 : limit]
                grouped = grouped.filter(sold__gte=Coalesce(Subquery(nth), 1))
            grouped = grouped.values(book_key=F("book_id"), copies=F("sold"), amount=F("revenue"))
        else:
            months = BookSalesMonth.objects.filter(
                month__gte=split.first_month, month__lte=split.last_month
            )
            # Grouped by `book_id + 0`: the same groups, but SQLite then reads the period's
            # months from their covering index instead of every month of every book.
            grouped = (
                months.values(book_key=_BOOK_KEY)
                .annotate(copies=Sum("sold"), amount=Sum("revenue"))
                .filter(copies__gt=0)
            )
            if not split.edges and limit is not None and limit > 0:
                # The books selling at least as many copies as the `limit`-th one, in the
                # same pass over the period (a rank over the groups): those tied with it are
                # then ordered by revenue and title.
                grouped = grouped.annotate(rank=Window(Rank(), order_by=F("copies").desc())).filter(
                    rank__lte=limit
                )
        rows = grouped.order_by().values_list("book_key", "copies", "amount")
        sums = {book_id: [copies, amount] for book_id, copies, amount in rows}
        parts = split.edges
    for part in parts:
        grouped = (
            _sales_items(part).values("book_id").annotate(sold=Sum(_SOLD), amount=Sum(_REVENUE))
        )
        for book_id, copies, amount in grouped.order_by().values_list("book_id", "sold", "amount"):
            found = sums.setdefault(book_id, [0, Decimal("0.00")])
            found[0] += copies
            found[1] += amount
    ranked = sorted(
        (
            (-copies, -cents(amount), book_id)
            for book_id, (copies, amount) in sums.items()
            if copies > 0
        )
    )
    if limit is not None:
        if limit <= 0:
            return []
        if len(ranked) > limit:
            # The books tied with the last one shown are ordered by title: read them too.
            cut = ranked[limit - 1][:2]
            ranked = [rank for rank in ranked if rank[:2] <= cut]
    books = _books_sold(filters, book_ids=None if limit is None else [r[2] for r in ranked])
    ordered = sorted(ranked, key=lambda rank: (rank[0], rank[1], books[rank[2]][0], rank[2]))
    if limit is not None:
        ordered = ordered[:limit]
    return [
        SalesRow(
            key=book_id,
            label=books[book_id][0],
            detail=books[book_id][1],
            copies_sold=-sold,
            revenue=-revenue,
            partners=books[book_id][2],
        )
        for sold, revenue, book_id in ordered
    ]


def _books_sold(filters: SalesFilters, *, book_ids: list[int] | None) -> dict[int, tuple]:
    """{book id: (title, ISBN, partners that sold it in the period)} for the books ranked (all
    books sold with None), in one query: from the rollup of each partner's sales of a book per
    month when the period is whole months, else from the period's items."""
    if book_ids == []:
        return {}
    split = _split(filters)
    if split.first_month and not split.edges:
        rows = PartnerBookSalesMonth.objects.filter(
            month__gte=split.first_month, month__lte=split.last_month, sold__gt=0
        )
        partner = "partner_id"
    else:
        rows = _sales_items(filters)
        partner = "operation__partner_id"
    if filters.partner_id:
        rows = rows.filter(**{partner: filters.partner_id})
    if book_ids is not None:
        rows = rows.filter(book_id__in=book_ids)
    counts = (
        rows.values("book_id", "book__title", "book__isbn")
        .annotate(partners=Count(partner, distinct=True))
        .order_by()
    )
    return {
        row["book_id"]: (row["book__title"], row["book__isbn"], row["partners"]) for row in counts
    }


@dataclass(frozen=True)
class SlowMover:
    partner_id: int
    partner: str
    book_id: int
    title: str
    isbn: str
    copies: int
    value: Decimal  # at today's retail price
    last_delivery_at: datetime
    last_sale_at: datetime | None


def slow_movers(
    filters: SalesFilters, *, now: datetime | None = None, limit: int | None = SLOW_MOVERS_LIMIT
) -> list[SlowMover]:
    """(partner, book) pairs held, last delivered more than `slow_days` ago and not sold since
    that many days, oldest delivery first (then by partner and book, as delivered together);
    the first `limit`. Independent of the period.

    Read from the stored balances (last delivery and last sale of each pair), along their
    index of held copies by last delivery: the read stops after `limit` rows."""
    cutoff = (now or timezone.now()) - timedelta(days=filters.slow_days)
    pairs = StockBalance.objects.held().filter(last_delivery_at__lt=cutoff)
    pairs = pairs.filter(Q(last_sale_at__isnull=True) | Q(last_sale_at__lt=cutoff))
    if filters.partner_id:
        pairs = pairs.filter(partner_id=filters.partner_id)
    pairs = pairs.values(
        "partner_id",
        "partner__store_name",
        "book_id",
        "book__title",
        "book__isbn",
        "book__price",
        "quantity",
        "last_delivery_at",
        "last_sale_at",
    ).order_by("last_delivery_at", "partner_id", "book_id")  # the index's order: no sort
    if limit is not None:
        pairs = pairs[:limit]
    return [
        SlowMover(
            partner_id=pair["partner_id"],
            partner=pair["partner__store_name"],
            book_id=pair["book_id"],
            title=pair["book__title"],
            isbn=pair["book__isbn"],
            copies=pair["quantity"],
            value=cents(pair["quantity"] * pair["book__price"]),
            last_delivery_at=pair["last_delivery_at"],
            last_sale_at=pair["last_sale_at"],
        )
        for pair in pairs
    ]
