"""The stored stock balance: one row per (partner, book), kept in step with the ledger.

`balance_apply` runs inside the service's transaction, under the partner's lock, each time
an operation starts or stops counting in stock. `balances_rebuild` recomputes rows from the
ledger (for data written around the services: the benchmark builder, test fixtures).
"""

from django.db.models import F, Max, Q, Sum
from django.db.models.functions import Coalesce

from operations.lifecycle import Kind, Status
from operations.models import Item, Operation, StockBalance
from operations.rollups import rollups_apply, rollups_rebuild, rollups_reserve


def balance_apply(*, operation: Operation, sign: int) -> None:
    """Add (sign=+1) or take back (sign=-1) the operation's items in the partner's balance.

    The caller holds the partner's lock: no other transaction writes these rows meanwhile.
    """
    lines = list(operation.items.values_list("book_id", "quantity", "unit_price", "damaged"))
    if not lines:
        return
    items = [(book_id, quantity) for book_id, quantity, _price, _damaged in lines]
    partner_id = operation.partner_id
    before = StockBalance.objects.filter(
        partner_id=partner_id, book_id__in=[book for book, _q in items]
    ).values_list("book_id", "last_sale_at", "quantity")
    last_sales, held_before = {}, {}
    for book_id, last_sale_at, quantity in before:
        last_sales[book_id], held_before[book_id] = last_sale_at, quantity
    StockBalance.objects.bulk_create(
        StockBalance(partner_id=partner_id, book_id=book)
        for book, _q in items
        if book not in last_sales
    )
    is_order = operation.kind == Kind.ORDER
    is_return = operation.kind == Kind.RETURN
    for book_id, quantity in items:
        change = {"quantity": F("quantity") + sign * quantity}
        if is_return:
            pass  # copies received back: neither delivered nor sold
        elif is_order:
            change["delivered"] = F("delivered") + sign * quantity
            if sign > 0:
                change["last_delivery_at"] = operation.delivered_at
        else:
            change["sold"] = F("sold") - sign * quantity
            last_sale = last_sales.get(book_id)
            if sign > 0 and (last_sale is None or last_sale < operation.created_at):
                change["last_sale_at"] = operation.created_at
        StockBalance.objects.filter(partner_id=partner_id, book_id=book_id).update(**change)
    if operation.kind == Kind.REPORT and sign < 0:
        _refresh_last_sale(partner_id=partner_id, book_ids=[book for book, _q in items])
    rollups_apply(operation=operation, sign=sign, lines=lines, held_before=held_before)


def balance_reserve(*, operation: Operation, sign: int) -> None:
    """Reserve (sign=+1) or release (sign=-1) the copies listed by a return.

    The caller holds the partner's lock and has checked, in `Operation.clean()`, that the
    copies are held and not reserved already; the database constraint
    `stock_balance_reserved_within_held` backs it.
    """
    changes = list(operation.items.values_list("book_id", "requested"))
    for book_id, requested in changes:
        StockBalance.objects.filter(partner_id=operation.partner_id, book_id=book_id).update(
            reserved=F("reserved") + sign * requested
        )
    rollups_reserve(changes=[(book_id, sign * requested) for book_id, requested in changes])


def ledger_reserved(*, partner_ids=None) -> dict[tuple[int, int], int]:
    """What `StockBalance.reserved` should hold: the copies listed by open returns."""
    items = Item.objects.filter(operation__in=Operation.objects.open_returns())
    if partner_ids is not None:
        items = items.filter(operation__partner_id__in=partner_ids)
    rows = (
        items.values("operation__partner_id", "book_id")
        .annotate(copies=Sum("requested"))
        .order_by()
        .values_list("operation__partner_id", "book_id", "copies")
    )
    return {(partner_id, book_id): copies for partner_id, book_id, copies in rows.iterator()}


def _refresh_last_sale(*, partner_id: int, book_ids: list[int]) -> None:
    """After a void, each book's last sale is that of the reports still recorded."""
    last = dict(
        Item.objects.filter(
            operation__partner_id=partner_id,
            operation__kind=Kind.REPORT,
            operation__status=Status.RECORDED,
            book_id__in=book_ids,
        )
        .values("book_id")
        .annotate(at=Max("operation__created_at"))
        .values_list("book_id", "at")
    )
    for book_id in book_ids:
        StockBalance.objects.filter(partner_id=partner_id, book_id=book_id).update(
            last_sale_at=last.get(book_id)
        )


def ledger_balances(*, partner_ids=None) -> dict[tuple[int, int], dict]:
    """What the balance rows should hold, computed from the counting items."""
    items = Item.objects.counting()
    if partner_ids is not None:
        items = items.filter(operation__partner_id__in=partner_ids)
    order, report = Q(operation__kind=Kind.ORDER), Q(operation__kind=Kind.REPORT)
    rows = (
        items.values("operation__partner_id", "book_id")
        .annotate(
            held=Sum("quantity"),
            delivered_total=Coalesce(Sum("quantity", filter=order), 0),
            sold_total=Coalesce(-Sum("quantity", filter=report), 0),
            last_delivery=Max("operation__delivered_at", filter=order),
            last_sale=Max("operation__created_at", filter=report),
        )
        .order_by()
    )
    return {(row["operation__partner_id"], row["book_id"]): _values(row) for row in rows.iterator()}


def _values(row: dict) -> dict:
    return {
        "quantity": row["held"],
        "delivered": row["delivered_total"],
        "sold": row["sold_total"],
        "last_delivery_at": row["last_delivery"],
        "last_sale_at": row["last_sale"],
    }


def balances_rebuild(*, partner_ids=None) -> int:
    """Recompute the balance rows from the ledger, copies reserved by open returns included,
    and every rollup (they span partners: all of them are rebuilt); returns how many balance
    rows were written."""
    expected = ledger_balances(partner_ids=partner_ids)
    reserved = ledger_reserved(partner_ids=partner_ids)
    current = StockBalance.objects.all()
    if partner_ids is not None:
        current = current.filter(partner_id__in=partner_ids)
    current.delete()
    StockBalance.objects.bulk_create(
        (
            StockBalance(
                partner_id=partner_id,
                book_id=book_id,
                reserved=reserved.get((partner_id, book_id), 0),
                **values,
            )
            for (partner_id, book_id), values in expected.items()
        ),
        batch_size=5000,
    )
    rollups_rebuild()
    return len(expected)
