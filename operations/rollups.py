"""Totals kept beside the stock balance: per book, per partner, and per month of sales.

`rollups_apply` runs inside `balance_apply` (the service's transaction, under the partner's
lock) with the balance rows as they stood before the change; `rollups_reserve` inside
`balance_reserve`. The per-book and per-month-of-a-book rows are shared by every partner:
they are written in ascending book order, so that two partners' transactions never wait on
each other in a cycle (PostgreSQL would report a deadlock).

The trailing twelve months (one row per book and per partner, for the window `SalesWindow`
names) are written in the same transaction when the operation's month falls in the window;
`trailing_roll` moves the window forward from the monthly rows, on the first read of a month.

`rollups_expected` computes what every rollup row should hold from the ledger (the checks of
`manage.py ledger_check`); `rollups_rebuild` writes them back, set-based (the migration's
backfill, the benchmark builder, test fixtures). Both take an app registry so that the
migration can run them on its historical models.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import connections, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    F,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from operations.lifecycle import OPEN_RETURN_STATUSES, Kind
from operations.models import (
    BookSalesMonth,
    BookSalesTrailing,
    BookStockTotal,
    PartnerBookSalesMonth,
    PartnerSalesMonth,
    PartnerSalesTrailing,
    PartnerStockTotal,
    SalesWindow,
)

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def month_of(moment: datetime) -> date:
    """The first day of the moment's month, in the site's time zone."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def month_start(month: date) -> datetime:
    """The first instant of a month, in the site's time zone."""
    return timezone.make_aware(datetime.combine(month, time.min), timezone.get_default_timezone())


# -- in the services' transaction ------------------------------------------------------------


def rollups_apply(*, operation, sign: int, lines, held_before: dict[int, int]) -> None:
    """Add (sign=+1) or take back (sign=-1) an operation's lines in the totals.

    `lines`: (book_id, signed quantity, unit price, damaged) of each item; `held_before`:
    the partner's copies of each of those books before this change.
    """
    partner_id, kind = operation.partner_id, operation.kind
    lines = sorted(lines, key=lambda line: line[0])
    book_ids = [book_id for book_id, *_rest in lines]
    # Read first, before any row shared with other partners is written: see `_window_shared`.
    window = _window_shared()
    titles = copies = 0
    BookStockTotal.objects.bulk_create(
        [BookStockTotal(book_id=book_id) for book_id in book_ids], ignore_conflicts=True
    )
    for book_id, quantity, _price, _damaged in lines:
        before = held_before.get(book_id, 0)
        holders = (before + sign * quantity > 0) - (before > 0)
        titles += holders
        copies += sign * quantity
        change = {"held": F("held") + sign * quantity}
        if holders:
            change["partners"] = F("partners") + holders
        if kind == Kind.ORDER:
            change["delivered"] = F("delivered") + sign * quantity
        elif kind == Kind.REPORT:
            change["sold"] = F("sold") - sign * quantity
        BookStockTotal.objects.filter(book_id=book_id).update(**change)
    _add_partner(
        PartnerStockTotal,
        {"held": F("held") + copies, "titles": F("titles") + titles},
        partner_id=partner_id,
    )

    if kind == Kind.ORDER:
        month = month_of(operation.delivered_at)
        change = {"delivered": F("delivered") + sign * sum(q for _b, q, _p, _d in lines)}
    elif kind == Kind.RETURN:
        month = month_of(operation.received_at)
        change = {
            "returned": F("returned") - sign * sum(q for _b, q, _p, _d in lines),
            "damaged": F("damaged") + sign * sum(d or 0 for _b, _q, _p, d in lines),
        }
    else:
        month = month_of(operation.created_at)
        # Report lines are negative: copies sold are -quantity.
        sold = [(book_id, -sign * q, -sign * q * price) for book_id, q, price, _d in lines]
        _add_sold(BookSalesMonth, sold, month=month)
        if _in_window(month, window):
            _add_sold(BookSalesTrailing, sold, window=window)
        _add_sold(PartnerBookSalesMonth, sold, partner_id=partner_id, month=month)
        change = {
            "sold": F("sold") + sum(s for _b, s, _r in sold),
            "revenue": F("revenue") + sum((r for _b, _s, r in sold), ZERO),
        }
    _add_partner(PartnerSalesMonth, change, partner_id=partner_id, month=month)
    if _in_window(month, window):
        _add_partner(PartnerSalesTrailing, change, partner_id=partner_id, window=window)


def _add_sold(model, sold: list[tuple], **key) -> None:
    """Add each book's copies sold and revenue ([(book_id, copies, revenue)], in ascending
    book order) to its row of `model` under `key`, creating the rows that are missing."""
    model.objects.bulk_create(
        [model(book_id=book_id, **key) for book_id, _copies, _revenue in sold],
        ignore_conflicts=True,
    )
    for book_id, copies, revenue in sold:
        model.objects.filter(book_id=book_id, **key).update(
            sold=F("sold") + copies, revenue=F("revenue") + revenue
        )


def _add_partner(model, change: dict, **key) -> None:
    """Apply `change` to the partner's row of `model` under `key`, created if missing."""
    model.objects.get_or_create(**key)
    model.objects.filter(**key).update(**change)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window_months(window: date) -> tuple[date, date]:
    """The first and last month of the twelve that end with `window`."""
    return add_months(window, -11), window


def _in_window(month: date, window: date | None) -> bool:
    return window is not None and window_months(window)[0] <= month <= window


def _window_shared() -> date | None:
    """The trailing window's last month, for a service about to write the months.

    On PostgreSQL the row is read FOR SHARE: services do not wait on each other for it, but a
    roll (FOR UPDATE) waits until every service that read it has committed, and the services
    that come after read the new window. It is read before the service writes any row that
    other partners share, so that a service waiting for a roll holds nothing another needs.
    SQLite runs one write transaction at a time (transaction_mode IMMEDIATE)."""
    connection = connections[SalesWindow.objects.db]
    sql = f"SELECT month FROM {connection.ops.quote_name(SalesWindow._meta.db_table)} WHERE id = 1"  # noqa: S608
    if connection.vendor == "postgresql":
        sql += " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    month = row[0]
    return month if isinstance(month, date) else date.fromisoformat(month)


def window_month() -> date | None:
    """The last month of the trailing window (None before the first roll), unlocked."""
    return SalesWindow.objects.filter(pk=1).values_list("month", flat=True).first()


@transaction.atomic
def trailing_roll(*, month: date) -> date:
    """Move the trailing window forward to the twelve months ending with `month`: sum them per
    book and per partner from the monthly rollups. The previous window's rows stay (a read
    that began before the roll may still ask for them); older ones go. Never moves back:
    returns the window's last month as it stands after the call."""
    SalesWindow.objects.bulk_create([SalesWindow(pk=1, month=None)], ignore_conflicts=True)
    window = SalesWindow.objects.select_for_update().get(pk=1)
    if window.month is not None and window.month >= month:
        return window.month
    first, last = window_months(month)
    _insert_select(
        BookSalesTrailing,
        {"window": "r_window", "book_id": "r_book", "sold": "r_sold", "revenue": "r_revenue"},
        BookSalesMonth.objects.filter(month__gte=first, month__lte=last)
        .values(r_book=F("book_id"))
        .annotate(
            r_window=Value(month, output_field=DateField()),
            r_sold=Sum("sold"),
            r_revenue=Sum("revenue"),
        )
        .order_by(),
    )
    partner_sums = {f"r_{name}": Sum(name) for name in PARTNER_MONTH_FIELDS}
    _insert_select(
        PartnerSalesTrailing,
        {
            "window": "r_window",
            "partner_id": "r_partner",
            **{name: f"r_{name}" for name in PARTNER_MONTH_FIELDS},
        },
        PartnerSalesMonth.objects.filter(month__gte=first, month__lte=last)
        .values(r_partner=F("partner_id"))
        .annotate(r_window=Value(month, output_field=DateField()), **partner_sums)
        .order_by(),
    )
    keep = [month] if window.month is None else [month, window.month]
    BookSalesTrailing.objects.exclude(window__in=keep).delete()
    PartnerSalesTrailing.objects.exclude(window__in=keep).delete()
    SalesWindow.objects.filter(pk=1).update(month=month)
    return month


def rollups_reserve(*, changes: list[tuple[int, int]]) -> None:
    """Copies reserved (+) or released (-) per book: [(book_id, copies)]."""
    for book_id, copies in sorted(changes):
        BookStockTotal.objects.filter(book_id=book_id).update(reserved=F("reserved") + copies)


# -- from the ledger ---------------------------------------------------------------------------

BOOK_FIELDS = ("held", "reserved", "delivered", "sold", "partners")
PARTNER_FIELDS = ("held", "titles")
PARTNER_MONTH_FIELDS = ("delivered", "sold", "revenue", "returned", "damaged")
BOOK_MONTH_FIELDS = ("sold", "revenue")


def _month_case(items, field: str):
    """An expression naming the local month of `operation.<field>`: CASEs nested as a binary
    search over the months that the items span, so that the grouping stays in the database
    (on SQLite too) at a handful of comparisons per row."""
    span = items.aggregate(first=Min(f"operation__{field}"), last=Max(f"operation__{field}"))
    if span["first"] is None:
        return None
    months, month = [], month_of(span["first"])
    while month <= month_of(span["last"]):
        months.append(month)
        month = next_month(month)

    def pick(months):
        if len(months) == 1:
            return Value(months[0], output_field=DateField())
        middle = len(months) // 2
        before = Q(**{f"operation__{field}__lt": month_start(months[middle])})
        return Case(
            When(before, then=pick(months[:middle])),
            default=pick(months[middle:]),
            output_field=DateField(),
        )

    return pick(months)


def _counting_items(apps, kind: str):
    Item = apps.get_model("operations", "Item")
    return Item.objects.filter(operation__counts_in_stock=True, operation__kind=kind)


def _by_month(apps, kind: str, field: str, keys: tuple[str, ...], **sums) -> Iterator[dict]:
    items = _counting_items(apps, kind)
    case = _month_case(items, field)
    if case is None:
        return
    yield from (
        items.annotate(rollup_month=case)
        .values(*keys, "rollup_month")
        .annotate(**sums)
        .order_by()
        .iterator(chunk_size=5000)
    )


def _expected_partner_months(apps) -> dict[tuple[int, date], dict]:
    partner_months = defaultdict(lambda: dict.fromkeys(PARTNER_MONTH_FIELDS, 0))
    for row in _by_month(
        apps, Kind.ORDER, "delivered_at", ("operation__partner_id",), copies=Sum("quantity")
    ):
        key = (row["operation__partner_id"], row["rollup_month"])
        partner_months[key]["delivered"] += row["copies"]
    for row in _by_month(
        apps,
        Kind.RETURN,
        "received_at",
        ("operation__partner_id",),
        copies=Sum("quantity"),
        copies_damaged=Sum("damaged"),
    ):
        key = (row["operation__partner_id"], row["rollup_month"])
        partner_months[key]["returned"] -= row["copies"]
        partner_months[key]["damaged"] += row["copies_damaged"] or 0
    sold = {"copies": Sum("quantity"), "amount": Sum(F("quantity") * F("unit_price"))}
    for row in _by_month(apps, Kind.REPORT, "created_at", ("operation__partner_id",), **sold):
        key = (row["operation__partner_id"], row["rollup_month"])
        partner_months[key]["sold"] -= row["copies"]
        partner_months[key]["revenue"] -= _cents(row["amount"])
    for values in partner_months.values():
        values["revenue"] = _cents(values["revenue"])
    return dict(partner_months)


def rollups_expected(*, apps=global_apps) -> dict[str, dict]:
    """What each rollup should hold, computed from the counting items and the open returns:
    {"book": {book_id: {...}}, "partner": {partner_id: {...}},
    "partner_month": {(partner_id, month): {...}}, "book_month": {(book_id, month): {...}},
    "partner_book_month": {(partner_id, book_id, month): {...}}}."""
    Item = apps.get_model("operations", "Item")
    held = (
        Item.objects.filter(operation__counts_in_stock=True)
        .values("operation__partner_id", "book_id")
        .annotate(
            copies=Sum("quantity"),
            delivered_total=Sum("quantity", filter=Q(operation__kind=Kind.ORDER)),
            sold_total=Sum("quantity", filter=Q(operation__kind=Kind.REPORT)),
        )
        .order_by()
    )
    books = defaultdict(lambda: dict.fromkeys(BOOK_FIELDS, 0))
    partners = defaultdict(lambda: dict.fromkeys(PARTNER_FIELDS, 0))
    for row in held.iterator(chunk_size=5000):
        book, partner = books[row["book_id"]], partners[row["operation__partner_id"]]
        book["held"] += row["copies"]
        book["delivered"] += row["delivered_total"] or 0
        book["sold"] -= row["sold_total"] or 0
        partner["held"] += row["copies"]
        if row["copies"] > 0:
            book["partners"] += 1
            partner["titles"] += 1
    open_returns = Item.objects.filter(
        operation__kind=Kind.RETURN, operation__status__in=list(OPEN_RETURN_STATUSES)
    )
    for row in open_returns.values("book_id").annotate(copies=Sum("requested")).order_by():
        books[row["book_id"]]["reserved"] += row["copies"] or 0

    sold = {"copies": Sum("quantity"), "amount": Sum(F("quantity") * F("unit_price"))}
    book_months = {}
    for row in _by_month(apps, Kind.REPORT, "created_at", ("book_id",), **sold):
        book_months[(row["book_id"], row["rollup_month"])] = {
            "sold": -row["copies"],
            "revenue": -_cents(row["amount"]),
        }
    partner_book_months = {}
    for row in _by_month(
        apps, Kind.REPORT, "created_at", ("operation__partner_id", "book_id"), **sold
    ):
        key = (row["operation__partner_id"], row["book_id"], row["rollup_month"])
        partner_book_months[key] = {"sold": -row["copies"], "revenue": -_cents(row["amount"])}
    return {
        "book": dict(books),
        "partner": dict(partners),
        "partner_month": _expected_partner_months(apps),
        "book_month": book_months,
        "partner_book_month": partner_book_months,
    }


def _cents(amount) -> Decimal:
    # SQLite sums decimals as floats: back to cents once.
    return Decimal(str(amount or 0)).quantize(Decimal("0.01"))


def _insert_select(model, columns: dict[str, str], queryset) -> int:
    """INSERT INTO model's table the rows of `queryset` (values aliased as `columns` says):
    the rows never leave the database."""
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names, not input
            f"({', '.join(quote(column) for column in columns)}) "
            f"SELECT {', '.join(quote(alias) for alias in columns.values())} FROM ({sql}) rollup",
            params,
        )
        return cursor.rowcount


def _sales_by_month_select(apps, keys: dict[str, str]):
    """Report items grouped by `keys` and month, as rows ready to insert (or None)."""
    items = _counting_items(apps, Kind.REPORT)
    case = _month_case(items, "created_at")
    if case is None:
        return None
    return (
        items.annotate(rollup_month=case)
        .values("rollup_month", **{alias: F(field) for alias, field in keys.items()})
        .annotate(
            rollup_sold=Sum(-F("quantity")),
            rollup_revenue=Sum(-F("quantity") * F("unit_price"), output_field=_MONEY),
        )
        .order_by()
    )


_TRAILING_MODELS = ("BookSalesTrailing", "PartnerSalesTrailing", "SalesWindow")


def rollups_rebuild(*, apps=global_apps) -> None:
    """Recompute every rollup row: the stock totals from the stored balances (rebuilt from the
    ledger first when they may be stale: see `balances_rebuild`), the monthly sales from the
    ledger. Grouped and written by the database, so it stays quick on millions of items."""
    StockBalance = apps.get_model("operations", "StockBalance")
    BookStockTotal = apps.get_model("operations", "BookStockTotal")
    PartnerStockTotal = apps.get_model("operations", "PartnerStockTotal")
    PartnerSalesMonth = apps.get_model("operations", "PartnerSalesMonth")
    BookSalesMonth = apps.get_model("operations", "BookSalesMonth")
    PartnerBookSalesMonth = apps.get_model("operations", "PartnerBookSalesMonth")
    for model in (
        BookStockTotal,
        PartnerStockTotal,
        PartnerSalesMonth,
        BookSalesMonth,
        PartnerBookSalesMonth,
    ):
        model.objects.all().delete()
    try:
        trailing = [apps.get_model("operations", name) for name in _TRAILING_MODELS]
    except LookupError:
        trailing = []  # a migration that runs before the trailing rollups exist
    for model in trailing:
        # The first read of the trailing twelve months rolls them again, from the months.
        model.objects.all().delete()
    held = Q(quantity__gt=0)
    _insert_select(
        BookStockTotal,
        {"book_id": "r_book", **{name: f"r_{name}" for name in BOOK_FIELDS}},
        StockBalance.objects.values(r_book=F("book_id"))
        .annotate(
            r_held=Sum("quantity"),
            r_reserved=Sum("reserved"),
            r_delivered=Sum("delivered"),
            r_sold=Sum("sold"),
            r_partners=Count("pk", filter=held),
        )
        .order_by(),
    )
    _insert_select(
        PartnerStockTotal,
        {"partner_id": "r_partner", "held": "r_held", "titles": "r_titles"},
        StockBalance.objects.values(r_partner=F("partner_id"))
        .annotate(r_held=Sum("quantity"), r_titles=Count("pk", filter=held))
        .order_by(),
    )
    PartnerSalesMonth.objects.bulk_create(
        (
            PartnerSalesMonth(partner_id=partner_id, month=month, **values)
            for (partner_id, month), values in _expected_partner_months(apps).items()
        ),
        batch_size=5000,
    )
    sales = {"month": "rollup_month", "sold": "rollup_sold", "revenue": "rollup_revenue"}
    rows = _sales_by_month_select(apps, {"rollup_book": "book_id"})
    if rows is not None:
        _insert_select(BookSalesMonth, {"book_id": "rollup_book", **sales}, rows)
        rows = _sales_by_month_select(
            apps, {"rollup_partner": "operation__partner_id", "rollup_book": "book_id"}
        )
        _insert_select(
            PartnerBookSalesMonth,
            {"partner_id": "rollup_partner", "book_id": "rollup_book", **sales},
            rows,
        )


def _as_tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)
