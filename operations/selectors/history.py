"""One partner's operations: one by id with its lines, the open ones, and the history
page with each operation's copies and amount."""

from django.db.models import (
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce
from django.shortcuts import get_object_or_404

from accounts.models import Partner
from operations.models import Item, Kind, Operation
from operations.selectors.stock import ZERO_EUR


def operation_get_for_partner(*, partner: Partner, pk) -> Operation:
    """One of the partner's operations, or 404: another partner's id is not found."""
    return get_object_or_404(
        Operation.objects.select_related(
            "partner", "created_by", "approved_by", "delivered_by", "closed_by"
        ),
        partner=partner,
        pk=pk,
    )


def operation_items(*, operation: Operation) -> QuerySet:
    return operation.items.select_related("book", "book__series").order_by("book__title", "pk")


def open_operations_for_partner(*, partner: Partner) -> tuple[Operation | None, list[Operation]]:
    """The partner's open order and its open returns, oldest first (one query)."""
    mine = Operation.objects.filter(partner=partner)
    rows = list(
        mine.filter(
            Q(pk__in=mine.open_orders().values("pk")) | Q(pk__in=mine.open_returns().values("pk"))
        ).order_by("created_at", "pk")
    )
    open_order = next((op for op in rows if op.kind == Kind.ORDER), None)
    return open_order, [op for op in rows if op.kind == Kind.RETURN]


def _lines_total(expression, output_field, zero) -> Coalesce:
    """Σ expression over the operation's own lines (correlated on OuterRef("pk")): read for
    the rows of the page only, never by grouping the whole history."""
    lines = (
        Item.objects.filter(operation_id=OuterRef("pk"))
        .order_by()
        .values("operation_id")
        .annotate(total=Sum(expression, output_field=output_field))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=output_field), zero)


def operation_history_for_partner(*, partner: Partner) -> QuerySet:
    """The partner's orders and reports, newest first, each with its copies and amount: the
    page walks the partner's newest-first index and sums the lines of its own rows, and the
    count reads no line."""
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        Operation.objects.filter(partner=partner)
        .annotate(
            copies=_lines_total(Abs("quantity"), IntegerField(), Value(0)),
            amount=_lines_total(Abs("quantity") * F("unit_price"), money, ZERO_EUR),
        )
        .order_by("-created_at", "-pk")
    )
