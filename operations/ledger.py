"""The ledger's invariants, verified from the rows themselves (`manage.py ledger_check`).

Each check yields violations that name the rows concerned, so a damaged database can be
mended by hand. The checks read in bounded memory: items are streamed partner by partner.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q

from accounts.models import AuditEntry
from operations.balances import ledger_balances, ledger_reserved
from operations.lifecycle import (
    COUNTS_IN_STOCK,
    OPEN_ORDER_STATUSES,
    REFERENCE_PREFIXES,
    STATES,
    STATUS_FITS_KIND,
    Kind,
    Status,
)
from operations.models import (
    BookSalesMonth,
    BookSalesTrailing,
    BookStockTotal,
    EventCounter,
    Item,
    Operation,
    PartnerBookSalesMonth,
    PartnerSalesMonth,
    PartnerSalesTrailing,
    PartnerStockTotal,
    ReferenceCounter,
    StockBalance,
)
from operations.rollups import (
    BOOK_FIELDS,
    BOOK_MONTH_FIELDS,
    PARTNER_FIELDS,
    PARTNER_MONTH_FIELDS,
    rollups_expected,
    window_month,
    window_months,
)

REFERENCE = re.compile(r"^(?P<prefix>[A-Z]+)-(?P<year>\d{4})-(?P<number>\d{5,})$")


@dataclass(frozen=True)
class Violation:
    check: str
    message: str

    def __str__(self):
        return f"[{self.check}] {self.message}"


def _status_fits_kind() -> Iterator[Violation]:
    for op in Operation.objects.exclude(STATUS_FITS_KIND).values(
        "pk", "reference", "kind", "status"
    ):
        yield Violation(
            "status",
            f"operation {op['pk']} ({op['reference']}): status {op['status']!r} is not a "
            f"status of kind {op['kind']!r}",
        )


def _counts_in_stock_matches_status() -> Iterator[Violation]:
    wrong = Operation.objects.filter(
        (COUNTS_IN_STOCK & Q(counts_in_stock=False)) | (~COUNTS_IN_STOCK & Q(counts_in_stock=True))
    )
    for op in wrong.values("pk", "reference", "kind", "status", "counts_in_stock"):
        yield Violation(
            "counts_in_stock",
            f"operation {op['pk']} ({op['reference']}): counts_in_stock={op['counts_in_stock']} "
            f"for a {op['kind']} {op['status']}",
        )


def _one_open_order_per_partner() -> Iterator[Violation]:
    crowded = (
        Operation.objects.filter(kind=Kind.ORDER, status__in=OPEN_ORDER_STATUSES)
        .values("partner_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in crowded:
        refs = Operation.objects.open_orders().filter(partner_id=row["partner_id"])
        yield Violation(
            "rule1",
            f"partner {row['partner_id']} has {row['n']} open orders: "
            + ", ".join(f"{pk} ({ref})" for pk, ref in refs.values_list("pk", "reference")),
        )


def _items_fit_their_operation() -> Iterator[Violation]:
    orphans = Item.objects.filter(~Exists(Operation.objects.filter(pk=OuterRef("operation_id"))))
    for item in orphans.values("pk", "operation_id"):
        yield Violation(
            "orphan_item", f"item {item['pk']} names operation {item['operation_id']}, absent"
        )
    for kind, spec in STATES.items():
        wrong_sign = Q(quantity__lt=0) if spec.sign > 0 else Q(quantity__gt=0)
        for item in (
            Item.objects.filter(operation__kind=kind)
            .filter(wrong_sign)
            .values("pk", "operation_id", "quantity")
        ):
            yield Violation(
                "item_sign",
                f"item {item['pk']} of {kind} {item['operation_id']}: quantity "
                f"{item['quantity']} has the wrong sign",
            )


def _events(partner_id: int) -> list[tuple[int, int, str]]:
    """The partner's stock events: (number, operation pk, 'counted' or 'uncounted')."""
    events = []
    rows = Operation.objects.filter(partner_id=partner_id).filter(
        Q(counted_seq__isnull=False) | Q(uncounted_seq__isnull=False) | Q(counts_in_stock=True)
    )
    for pk, counted, uncounted in rows.values_list("pk", "counted_seq", "uncounted_seq"):
        if counted is None:
            events.append((-1, pk, "counted"))  # counts with no number: reported below
        else:
            events.append((counted, pk, "counted"))
        if uncounted is not None:
            events.append((uncounted, pk, "uncounted"))
    return sorted(events)


def _event_numbers_and_stock() -> Iterator[Violation]:
    """Per partner: event numbers 1..last, each used once; stock replayed in that order never
    goes below zero; the counter stands at the last number."""
    counters = dict(EventCounter.objects.values_list("partner_id", "last_seq"))
    partner_ids = set(
        Operation.objects.filter(Q(counts_in_stock=True) | Q(counted_seq__isnull=False))
        .values_list("partner_id", flat=True)
        .distinct()
    )
    for partner_id in sorted(partner_ids | set(counters)):
        events = _events(partner_id)
        numbers = [seq for seq, _pk, _what in events if seq >= 0]
        for seq, pk, _what in events:
            if seq < 0:
                yield Violation(
                    "event_number", f"operation {pk} counts in stock but has no event number"
                )
        expected = list(range(1, len(numbers) + 1))
        if numbers != expected:
            seen, repeated = set(), set()
            for n in numbers:
                (repeated if n in seen else seen).add(n)
            missing = sorted(set(expected) - seen)[:10]
            yield Violation(
                "event_number",
                f"partner {partner_id}: event numbers are not 1..{len(numbers)} "
                f"(repeated: {sorted(repeated)[:10]}, missing: {missing})",
            )
        last = counters.get(partner_id, 0)
        if last != len(numbers):
            yield Violation(
                "event_number",
                f"partner {partner_id}: the counter stands at {last}, "
                f"but {len(numbers)} events are numbered",
            )
        yield from _replay_stock(partner_id, events)


def _replay_stock(partner_id: int, events) -> Iterator[Violation]:
    lines = defaultdict(list)
    op_ids = {pk for _seq, pk, _what in events}
    for op_id, book_id, quantity in Item.objects.filter(operation_id__in=op_ids).values_list(
        "operation_id", "book_id", "quantity"
    ):
        lines[op_id].append((book_id, quantity))
    stock = defaultdict(int)
    for seq, op_id, what in events:
        sign = 1 if what == "counted" else -1
        for book_id, quantity in lines[op_id]:
            stock[book_id] += sign * quantity
            if stock[book_id] < 0:
                yield Violation(
                    "negative_stock",
                    f"partner {partner_id}, book {book_id}: stock {stock[book_id]} after "
                    f"event {seq} (operation {op_id})",
                )
                stock[book_id] = 0  # report each fall once, not every later event


def _rule_2_held() -> Iterator[Violation]:
    """No order was written while a delivery awaited its report: at the partner's event
    number when the order was written, the last delivery before it was followed by a
    report recorded (and not yet voided) at that number."""
    orders = Operation.objects.orders().values_list(
        "pk", "reference", "partner_id", "opened_at_seq"
    )
    by_partner = defaultdict(list)
    for row in orders:
        by_partner[row[2]].append(row)
    for partner_id, partner_orders in by_partner.items():
        deliveries = sorted(
            Operation.objects.orders()
            .filter(partner_id=partner_id, status=Status.DELIVERED, counted_seq__isnull=False)
            .values_list("counted_seq", flat=True)
        )
        reports = list(
            Operation.objects.reports()
            .filter(partner_id=partner_id, counted_seq__isnull=False)
            .values_list("counted_seq", "uncounted_seq")
        )
        for pk, reference, _partner, at_seq in partner_orders:
            before = [seq for seq in deliveries if seq <= at_seq]
            if not before:
                continue
            delivery = before[-1]
            if not any(
                delivery < counted <= at_seq and (uncounted is None or uncounted > at_seq)
                for counted, uncounted in reports
            ):
                yield Violation(
                    "rule2",
                    f"order {pk} ({reference}) was written at event {at_seq}, while the "
                    f"delivery of event {delivery} had no sales report after it",
                )


def _deleted_references() -> set[str]:
    """References whose operations were deleted through the service (recorded in the audit
    log): their numbers are accounted for."""
    return set(
        AuditEntry.objects.filter(action="operation.deleted").values_list("object_repr", flat=True)
    )


def _references_gapless() -> Iterator[Violation]:
    prefixes = set(REFERENCE_PREFIXES.values())
    numbers = defaultdict(list)
    for pk, reference in Operation.objects.values_list("pk", "reference"):
        match = REFERENCE.match(reference or "")
        if not match or match["prefix"] not in prefixes:
            yield Violation("reference", f"operation {pk}: malformed reference {reference!r}")
            continue
        numbers[(match["prefix"], int(match["year"]))].append(int(match["number"]))
    deleted = defaultdict(set)
    for reference in _deleted_references():
        match = REFERENCE.match(reference)
        if match:
            deleted[(match["prefix"], int(match["year"]))].add(int(match["number"]))
    counters = {
        (prefix, year): last
        for prefix, year, last in ReferenceCounter.objects.filter(prefix__in=prefixes).values_list(
            "prefix", "year", "last_value"
        )
    }
    for key in sorted(set(numbers) | set(counters)):
        prefix, year = key
        used = numbers.get(key, [])
        repeated = sorted(n for n, times in Counter(used).items() if times > 1)
        if repeated:
            yield Violation("reference", f"{prefix}-{year}: numbers used twice: {repeated[:10]}")
        last = counters.get(key, 0)
        accounted = set(used) | deleted.get(key, set())
        missing = sorted(set(range(1, last + 1)) - accounted)
        if missing:
            yield Violation(
                "reference",
                f"{prefix}-{year}: numbers missing (neither used nor deleted through the "
                f"back office): {missing[:10]}",
            )
        beyond = sorted(n for n in used if n > last)
        if beyond:
            yield Violation(
                "reference",
                f"{prefix}-{year}: numbers beyond the counter ({last}): {beyond[:10]}",
            )


def _balances_match_ledger() -> Iterator[Violation]:
    """The stored balance equals the ledger, row by row; no row holds reserved copies it
    does not hold."""
    expected = ledger_balances()
    fields = ("quantity", "delivered", "sold", "last_delivery_at", "last_sale_at")
    stored = StockBalance.objects.values_list("pk", "partner_id", "book_id", *fields, "reserved")
    seen = set()
    for pk, partner_id, book_id, *values, reserved in stored.iterator():
        key = (partner_id, book_id)
        seen.add(key)
        want = expected.get(key) or {
            "quantity": 0,
            "delivered": 0,
            "sold": 0,
            "last_delivery_at": None,
            "last_sale_at": None,
        }
        for name, value in zip(fields, values, strict=True):
            if value != want[name]:
                yield Violation(
                    "balance",
                    f"stock balance {pk} (partner {partner_id}, book {book_id}): {name} is "
                    f"{value}, the ledger says {want[name]}",
                )
        if not 0 <= reserved <= values[0]:
            yield Violation(
                "balance",
                f"stock balance {pk} (partner {partner_id}, book {book_id}): {reserved} "
                f"reserved of {values[0]} held",
            )
    for partner_id, book_id in sorted(set(expected) - seen):
        if any(expected[(partner_id, book_id)][name] for name in ("quantity", "delivered", "sold")):
            yield Violation(
                "balance",
                f"partner {partner_id}, book {book_id}: no stock balance row, the ledger "
                f"says {expected[(partner_id, book_id)]['quantity']} held",
            )


def _reserved_matches_open_returns() -> Iterator[Violation]:
    """Copies reserved in each balance row are exactly the copies listed by the partner's
    open returns (rule 10)."""
    expected = ledger_reserved()
    stored = StockBalance.objects.values_list("pk", "partner_id", "book_id", "reserved")
    seen = set()
    for pk, partner_id, book_id, reserved in stored.iterator():
        seen.add((partner_id, book_id))
        want = expected.get((partner_id, book_id), 0)
        if reserved != want:
            yield Violation(
                "reserved",
                f"stock balance {pk} (partner {partner_id}, book {book_id}): {reserved} "
                f"reserved, open returns list {want}",
            )
    for partner_id, book_id in sorted(set(expected) - seen):
        yield Violation(
            "reserved",
            f"partner {partner_id}, book {book_id}: open returns list "
            f"{expected[(partner_id, book_id)]} copies, no stock balance row reserves them",
        )


def _return_lines_fit_their_status() -> Iterator[Violation]:
    """Return lines keep the copies listed; until received they take away exactly those; once
    received, at most those, and the damaged copies are among the copies received. Lines of
    other kinds carry neither."""
    returns = Item.objects.filter(operation__kind=Kind.RETURN)
    for pk, op_id in (
        Item.objects.exclude(operation__kind=Kind.RETURN)
        .filter(Q(requested__isnull=False) | Q(damaged__isnull=False))
        .values_list("pk", "operation_id")
    ):
        yield Violation("return_line", f"item {pk} of operation {op_id} is not a return line")
    for pk, op_id in returns.filter(requested__isnull=True).values_list("pk", "operation_id"):
        yield Violation("return_line", f"item {pk} of return {op_id} lists no copies")
    unreceived = returns.exclude(operation__status=Status.RECEIVED).filter(
        ~Q(quantity=-F("requested")) | Q(damaged__isnull=False)
    )
    for pk, op_id, quantity, requested in unreceived.values_list(
        "pk", "operation_id", "quantity", "requested"
    ):
        yield Violation(
            "return_line",
            f"item {pk} of return {op_id} (not received): quantity {quantity} for "
            f"{requested} copies listed",
        )
    received = returns.filter(operation__status=Status.RECEIVED).filter(
        Q(quantity__lt=-F("requested"))
        | Q(quantity__gt=0)
        | Q(damaged__isnull=True)
        | Q(damaged__gt=-F("quantity"))
    )
    for pk, op_id, quantity, requested, damaged in received.values_list(
        "pk", "operation_id", "quantity", "requested", "damaged"
    ):
        yield Violation(
            "return_line",
            f"item {pk} of return {op_id} (received): quantity {quantity}, {requested} listed, "
            f"{damaged} damaged",
        )


def _rollup_matches(name, model, keys, fields, expected, rows=None) -> Iterator[Violation]:
    """Each stored row (of `rows`, all the model's by default) equals the ledger's figures; a
    row the ledger lacks holds zeros, and every figure the ledger has is stored."""
    zero = dict.fromkeys(fields, 0)
    seen = set()
    rows = model.objects.all() if rows is None else rows
    for row in rows.values_list("pk", *keys, *fields).iterator():
        pk, key, values = row[0], row[1 : 1 + len(keys)], row[1 + len(keys) :]
        key = key if len(keys) > 1 else key[0]
        seen.add(key)
        want = expected.get(key, zero)
        for field, value in zip(fields, values, strict=True):
            if value != want[field]:
                yield Violation(
                    name,
                    f"{model._meta.model_name} {pk} ({key}): {field} is {value}, the ledger "
                    f"says {want[field]}",
                )
    for key in sorted(set(expected) - seen, key=str):
        if any(expected[key].values()):
            yield Violation(
                name,
                f"{model._meta.model_name} for {key}: no row, the ledger says {expected[key]}",
            )


def _rollups_match_ledger() -> Iterator[Violation]:
    """The stock per book and per partner, and the sales per month of each partner and of
    each book, equal the ledger."""
    expected = rollups_expected()
    yield from _rollup_matches(
        "stock_per_book", BookStockTotal, ("book_id",), BOOK_FIELDS, expected["book"]
    )
    yield from _rollup_matches(
        "stock_per_partner", PartnerStockTotal, ("partner_id",), PARTNER_FIELDS, expected["partner"]
    )
    yield from _rollup_matches(
        "sales_per_month",
        PartnerSalesMonth,
        ("partner_id", "month"),
        PARTNER_MONTH_FIELDS,
        expected["partner_month"],
    )
    yield from _rollup_matches(
        "sales_per_month",
        BookSalesMonth,
        ("book_id", "month"),
        BOOK_MONTH_FIELDS,
        expected["book_month"],
    )
    yield from _rollup_matches(
        "sales_per_month",
        PartnerBookSalesMonth,
        ("partner_id", "book_id", "month"),
        BOOK_MONTH_FIELDS,
        expected["partner_book_month"],
    )
    yield from _trailing_match_ledger(expected)


def _trailing_sums(months: dict, window) -> dict:
    """{key: the sums of its months in the twelve ending with `window`} from
    {(key, month): {field: value}}."""
    first, last = window_months(window)
    sums = {}
    for (*key, month), values in months.items():
        if first <= month <= last:
            key = tuple(key) if len(key) > 1 else key[0]
            found = sums.setdefault(key, dict.fromkeys(values, 0))
            for field, value in values.items():
                found[field] += value
    return sums


def _trailing_match_ledger(expected) -> Iterator[Violation]:
    """The trailing twelve months of the current window, per book and per partner, equal the
    ledger's sales in those months."""
    window = window_month()
    if window is None:
        return  # not rolled yet: the first read of the analytics rolls it
    yield from _rollup_matches(
        "sales_over_twelve_months",
        BookSalesTrailing,
        ("book_id",),
        BOOK_MONTH_FIELDS,
        _trailing_sums(expected["book_month"], window),
        rows=BookSalesTrailing.objects.filter(window=window),
    )
    yield from _rollup_matches(
        "sales_over_twelve_months",
        PartnerSalesTrailing,
        ("partner_id",),
        PARTNER_MONTH_FIELDS,
        _trailing_sums(expected["partner_month"], window),
        rows=PartnerSalesTrailing.objects.filter(window=window),
    )


CHECKS: list[tuple[str, Callable[[], Iterator[Violation]]]] = [
    ("every status fits its kind", _status_fits_kind),
    ("counts_in_stock agrees with kind and status", _counts_in_stock_matches_status),
    ("at most one open order per partner", _one_open_order_per_partner),
    ("every item belongs to an operation, with the sign of its kind", _items_fit_their_operation),
    (
        "event numbers gapless per partner; stock never negative at any event",
        _event_numbers_and_stock,
    ),
    ("no order written while a delivery awaited its report (rule 2)", _rule_2_held),
    ("references unique and gapless per prefix and year", _references_gapless),
    ("the stored stock balance equals the ledger", _balances_match_ledger),
    ("copies reserved equal the copies of open returns", _reserved_matches_open_returns),
    ("return lines fit their status", _return_lines_fit_their_status),
    (
        "the stock and sales rollups (months and trailing twelve months) equal the ledger",
        _rollups_match_ledger,
    ),
]


def register(label: str, check: Callable[[], Iterator[Violation]]) -> None:
    """Add a check (other capabilities of the ledger bring their own)."""
    CHECKS.append((label, check))


def check_ledger() -> list[Violation]:
    violations = []
    for _label, check in CHECKS:
        violations.extend(check())
    return violations
