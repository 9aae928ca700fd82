"""The consignment ledger: operations (orders, sales reports) and their items.

Stock of a partner for a book is the sum of the signed quantities of the items of its
operations that count: delivered orders (+q) and recorded sales reports (-q). The
`counts_in_stock` flag says which operations count; a database constraint keeps it in step
with kind and status, so that stock queries need one indexed filter.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from operations.lifecycle import (
    COUNTS_IN_STOCK,
    NEEDS_REASON,
    OPEN_ORDER_STATUSES,
    OPEN_RETURN_STATUSES,
    REFERENCE_PREFIXES,
    STATES,
    STATUS_FITS_KIND,
    Kind,
    Status,
    can_become,
    counts_in_stock,
)

__all__ = [
    "COUNTS_IN_STOCK",
    "OPEN_ORDER_STATUSES",
    "REFERENCE_PREFIXES",
    "STATES",
    "Kind",
    "Status",
    "counts_in_stock",
]


def cents(amount) -> Decimal:
    """Round a money amount to the cent, halves up (as on an invoice)."""
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def amount_due(*, revenue: Decimal, commission_rate: Decimal) -> Decimal:
    """Due to the publisher: revenue x (1 - commission), to the cent."""
    return cents(Decimal(revenue) * (Decimal(1) - Decimal(commission_rate) / Decimal(100)))


class ReferenceCounter(models.Model):
    """Last number handed out per prefix and year, for references like ORD-2026-00042."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_unique")
        ]

    def __str__(self):
        return f"{self.prefix}-{self.year}: {self.last_value}"


class EventCounter(models.Model):
    """The last event number handed out to a partner: each stock-counting event (a delivery,
    a recorded report, a void) takes the next one under the partner's lock, so the numbers
    give the order in which events were committed, whatever the clocks say."""

    partner = models.OneToOneField(
        "accounts.Partner",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="event_counter",
        verbose_name=_("partner"),
    )
    last_seq = models.PositiveIntegerField(_("last event number"), default=0)

    class Meta:
        verbose_name = _("event counter")
        verbose_name_plural = _("event counters")

    def __str__(self):
        return f"{self.partner_id}: {self.last_seq}"


class LedgerProtected(Exception):
    """Raised when a delete would rewrite the ledger (copies delivered or sold)."""


def _refuse_ledger_delete(counting: bool) -> None:
    from accounts.models import purge_is_allowed

    if counting and not purge_is_allowed():
        raise LedgerProtected(
            _(
                "Operations that count in stock (copies delivered or sold) are never deleted: "
                "reject or void them instead."
            )
        )


class OperationQuerySet(models.QuerySet):
    def orders(self):
        return self.filter(kind=Kind.ORDER)

    def reports(self):
        return self.filter(kind=Kind.REPORT)

    def open_orders(self):
        return self.filter(kind=Kind.ORDER, status__in=OPEN_ORDER_STATUSES)

    def returns(self):
        return self.filter(kind=Kind.RETURN)

    def open_returns(self):
        """Returns whose copies are reserved: requested, recalled or shipped (rule 10)."""
        return self.filter(kind=Kind.RETURN, status__in=OPEN_RETURN_STATUSES)

    def counting(self):
        return self.filter(counts_in_stock=True)

    def deliveries_awaiting_report(self):
        """Rule 2, stated once: delivered orders that no recorded sales report follows.

        "Follows" is the partner's event order (`counted_seq`, handed out under the partner's
        lock), never a comparison of clocks. A report voided since no longer counts.
        """
        later_report = Operation.objects.filter(
            partner=models.OuterRef("partner"),
            kind=Kind.REPORT,
            status=Status.RECORDED,
            counted_seq__gt=models.OuterRef("counted_seq"),
        )
        return self.filter(kind=Kind.ORDER, status=Status.DELIVERED).exclude(
            models.Exists(later_report)
        )

    def ordering_state(self, *, partner, exclude_pk=None) -> "OrderingState":
        """Whether `partner` may place an order now (rules 1 and 2), and if not, why."""
        mine = self.filter(partner=partner)
        open_orders = mine.open_orders()
        if exclude_pk is not None:
            open_orders = open_orders.exclude(pk=exclude_pk)
        open_order = open_orders.order_by("-created_at", "-pk").first()
        if open_order is not None:
            return OrderingState.decide(open_orders=[open_order], awaiting=[])
        awaiting = mine.deliveries_awaiting_report().order_by("-counted_seq").first()
        return OrderingState.decide(open_orders=[], awaiting=[awaiting] if awaiting else [])

    def delete(self):
        _refuse_ledger_delete(self.filter(counts_in_stock=True).exists())
        return super().delete()


@dataclass(frozen=True)
class OrderingState:
    """Whether a partner may place an order now, and if not, why and what to do."""

    code: str  # "can_order", "open_order", "awaiting_report"
    open_order: "Operation | None" = None
    last_delivery_at: datetime | None = None

    @classmethod
    def decide(cls, *, open_orders, awaiting) -> "OrderingState":
        """From the partner's open orders (rule 1) and its deliveries awaiting a report (rule
        2, as `deliveries_awaiting_report` finds them): an open order first, the newest; then
        the latest delivery awaiting its report."""
        if open_orders:
            newest = max(open_orders, key=lambda order: (order.created_at, order.pk))
            return cls("open_order", open_order=newest)
        if awaiting:
            latest = max(awaiting, key=lambda delivery: delivery.counted_seq)
            return cls("awaiting_report", last_delivery_at=latest.delivered_at)
        return cls("can_order")

    @property
    def can_order(self) -> bool:
        return self.code == "can_order"

    @property
    def reason(self) -> str:
        if self.code == "open_order":
            order = self.open_order
            if order.status == Status.PENDING:
                return _(
                    "Your order %(ref)s is waiting for approval: one order at a time. You can "
                    "cancel it while it is pending."
                ) % {"ref": order.reference}
            return _(
                "Your order %(ref)s is approved and on its way: one order at a time. Once it "
                "is delivered, report your sales, then order again."
            ) % {"ref": order.reference}
        if self.code == "awaiting_report":
            when = formats.date_format(timezone.localtime(self.last_delivery_at), "DATE_FORMAT")
            return _(
                "Report your sales since the delivery of %(date)s before ordering again "
                "(a report saying nothing was sold counts)."
            ) % {"date": when}
        return _("You can order.")


class Operation(models.Model):
    """One document in a partner's history: an order (delivery request) or a sales report."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        related_name="operations",
        verbose_name=_("partner"),
    )
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    partner_note = models.TextField(_("partner note"), blank=True, max_length=2000)
    admin_note = models.TextField(_("admin note"), blank=True, max_length=2000)
    counts_in_stock = models.BooleanField(_("counts in stock"), default=False, editable=False)
    # The partner's event numbers (EventCounter, taken under the partner's lock): the
    # order of events that rule 2 and the ledger check read, whatever the clocks say.
    opened_at_seq = models.PositiveIntegerField(
        _("partner event number when written"), default=0, editable=False
    )
    counted_seq = models.PositiveIntegerField(
        _("event number: counted in stock"), null=True, blank=True, editable=False
    )
    uncounted_seq = models.PositiveIntegerField(
        _("event number: no longer counted"), null=True, blank=True, editable=False
    )
    commission_rate = models.DecimalField(
        _("commission rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text=_("The partner's commission when the report was recorded."),
    )

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
        editable=False,
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, editable=False)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivered by"),
        editable=False,
    )
    closed_at = models.DateTimeField(
        _("cancelled, rejected or voided at"), null=True, blank=True, editable=False
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled, rejected or voided by"),
        editable=False,
    )
    close_reason = models.TextField(_("reason"), blank=True, max_length=2000, editable=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True, editable=False)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
        editable=False,
    )
    carrier_reference = models.CharField(
        _("carrier reference"), max_length=100, blank=True, editable=False
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, editable=False)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
        editable=False,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Rule 1 held by the database too: one open order per partner.
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(kind=Kind.ORDER, status__in=OPEN_ORDER_STATUSES),
                name="one_open_order_per_partner",
            ),
            models.CheckConstraint(condition=STATUS_FITS_KIND, name="operation_status_fits_kind"),
            models.CheckConstraint(
                condition=(COUNTS_IN_STOCK & models.Q(counts_in_stock=True))
                | (~COUNTS_IN_STOCK & models.Q(counts_in_stock=False)),
                name="operation_counts_in_stock_matches_status",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=NEEDS_REASON) | ~models.Q(close_reason=""),
                name="operation_reject_void_has_reason",
            ),
            # An operation that counts has its event number; one that stopped counting has
            # both, the second after the first.
            models.CheckConstraint(
                condition=models.Q(counts_in_stock=False) | models.Q(counted_seq__isnull=False),
                name="operation_counting_has_seq",
            ),
            models.CheckConstraint(
                condition=models.Q(uncounted_seq__isnull=True)
                | models.Q(counts_in_stock=False, counted_seq__lt=models.F("uncounted_seq")),
                name="operation_uncounted_after_counted",
            ),
            models.UniqueConstraint(
                fields=["partner", "counted_seq"], name="operation_counted_seq_unique"
            ),
            models.UniqueConstraint(
                fields=["partner", "uncounted_seq"], name="operation_uncounted_seq_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "counts_in_stock"], name="op_partner_counting"),
            # The partner's last delivery and last recorded report (the order desk): one
            # probe each, the last entry of (partner, kind, status).
            models.Index(
                fields=["partner", "kind", "status", "counted_seq"],
                name="op_partner_kind_status_seq",
            ),
            models.Index(fields=["kind", "status", "created_at"], name="op_kind_status_created"),
            # The back office's status filter, newest first.
            models.Index(fields=["status", "-created_at"], name="op_status_created"),
            models.Index(fields=["partner", "-created_at"], name="op_partner_created"),
            # The back office's default order, newest first.
            models.Index(fields=["-created_at", "-id"], name="op_created_desc"),
        ]

    def __str__(self):
        return self.reference or str(_("new operation"))

    # -- cheap properties --------------------------------------------------------------

    @property
    def is_order(self) -> bool:
        return self.kind == Kind.ORDER

    @property
    def is_report(self) -> bool:
        return self.kind == Kind.REPORT

    @property
    def is_return(self) -> bool:
        return self.kind == Kind.RETURN

    @property
    def is_open_return(self) -> bool:
        return self.is_return and self.status in OPEN_RETURN_STATUSES

    @property
    def is_open_order(self) -> bool:
        return self.is_order and self.status in OPEN_ORDER_STATUSES

    @property
    def is_cancellable(self) -> bool:
        return self.can_become(Status.CANCELLED)

    def can_become(self, status: str) -> bool:
        return can_become(self.kind, self.status, status)

    def amount_due(self, revenue: Decimal) -> Decimal:
        """Due to the publisher for `revenue` sold in this report, at its recorded commission."""
        rate = self.commission_rate if self.commission_rate is not None else Decimal(0)
        return amount_due(revenue=revenue, commission_rate=rate)

    @property
    def lines(self) -> list["Item"]:
        """The items to validate: those given before saving, else those stored."""
        pending = getattr(self, "_pending_lines", None)
        if pending is not None:
            return pending
        if self.pk is None:
            return []
        return list(self.items.select_related("book"))

    def set_pending_lines(self, lines: list["Item"]) -> None:
        self._pending_lines = lines

    def delete(self, *args, **kwargs):
        # Its items would go with it (cascade) and rewrite the stock.
        _refuse_ledger_delete(self.counts_in_stock)
        return super().delete(*args, **kwargs)

    # -- the rules this model states -----------------------------------------------------

    def clean(self):
        super().clean()
        if self.partner_id is None:
            return
        errors = []
        if self._state.adding:
            if self.partner.is_suspended:
                errors.append(_("This partner account is suspended."))
            elif self.kind == Kind.ORDER:
                errors += self._new_order_errors()
            elif self.kind == Kind.REPORT:
                errors += self._new_report_errors()
            elif self.kind == Kind.RETURN:
                errors += self._new_return_errors()
        if self.status in NEEDS_REASON and not self.close_reason.strip():
            errors.append(_("Give a reason."))
        if errors:
            raise ValidationError(errors)

    def _line_errors(self, *, sign: int) -> list:
        errors, seen = [], set()
        for line in self.lines:
            if line.book_id in seen:
                errors.append(
                    _("%(title)s appears twice: put all its copies on one line.")
                    % {"title": line.book.title}
                )
            seen.add(line.book_id)
            copies = line.quantity * sign
            if not 1 <= copies <= settings.MAX_ITEM_QUANTITY:
                errors.append(
                    _("%(title)s: the quantity must be a whole number from 1 to %(max)s.")
                    % {"title": line.book.title, "max": settings.MAX_ITEM_QUANTITY}
                )
        return errors

    def _new_order_errors(self) -> list:
        # Rules 1 and 2: one open order; report the last delivery before reordering.
        state = Operation.objects.ordering_state(partner=self.partner, exclude_pk=self.pk)
        if not state.can_order:
            return [state.reason]
        # Rule 4: well-formed lines, no retired books.
        if not self.lines:
            return [_("An order needs at least one book.")]
        errors = self._line_errors(sign=1)
        for line in self.lines:
            if not line.book.is_active:
                errors.append(
                    _("%(title)s is no longer available to order.") % {"title": line.book.title}
                )
        return errors

    def _new_report_errors(self) -> list:
        # Rule 3: a report only sells copies the partner holds and no open return reserves.
        # No lines = nothing sold.
        return self._line_errors(sign=-1) + self._free_stock_errors(
            none=_("You hold no copies of %(title)s."),
            reserved=_(
                "%(title)s: you hold %(held)s copies, %(reserved)s of them in an "
                "open return; you cannot report %(sold)s sold."
            ),
            short=_("%(title)s: you hold %(held)s copies; you cannot report %(sold)s sold."),
        )

    def _new_return_errors(self) -> list:
        # Rule 10: a return lists at most what is held minus what other open returns reserve.
        if not self.lines:
            return [_("A return needs at least one book.")]
        return self._line_errors(sign=-1) + self._free_stock_errors(
            none=_("No copies of %(title)s are held."),
            reserved=_(
                "%(title)s: %(held)s copies held, %(reserved)s already in an open "
                "return; %(copies)s cannot be returned."
            ),
            short=_("%(title)s: %(held)s copies held; %(copies)s cannot be returned."),
        )

    def _free_stock_errors(self, *, none, reserved, short) -> list:
        """Lines taking more copies than held minus reserved (reports and returns alike),
        each refused in the words given: none held, some reserved, or too few held."""
        errors = []
        stocks = StockBalance.objects.stock_of(partner=self.partner)
        for line in self.lines:
            copies = -line.quantity
            stock = stocks.get(line.book_id, Stock())
            words = stock.refusal(copies, none=none, reserved=reserved, short=short)
            if words is None:
                continue
            errors.append(
                words
                % {
                    "title": line.book.title,
                    "held": stock.held,
                    "reserved": stock.reserved,
                    "sold": copies,
                    "copies": copies,
                }
            )
        return errors


class ItemQuerySet(models.QuerySet):
    def counting(self):
        """The lines that make up stock: those of operations that count."""
        return self.filter(operation__counts_in_stock=True)

    def held_by(self, *, partner) -> dict[int, int]:
        """{book_id: copies held} for every book the partner holds (one query)."""
        rows = (
            self.counting()
            .filter(operation__partner=partner)
            .values("book_id")
            .annotate(held=models.Sum("quantity"))
            .filter(held__gt=0)
            .values_list("book_id", "held")
        )
        return dict(rows)

    def delete(self):
        _refuse_ledger_delete(self.filter(operation__counts_in_stock=True).exists())
        return super().delete()


class Item(models.Model):
    """One line of an operation: a book, a signed quantity and the unit price when written."""

    operation = models.ForeignKey(
        Operation, on_delete=models.CASCADE, related_name="items", verbose_name=_("operation")
    )
    book = models.ForeignKey(
        "catalog.Book", on_delete=models.PROTECT, related_name="items", verbose_name=_("book")
    )
    quantity = models.IntegerField(
        _("quantity"),
        help_text=_(
            "Positive for copies delivered, negative for copies sold or returned (for a "
            "received return: the copies received)."
        ),
    )
    requested = models.PositiveIntegerField(
        _("copies to return"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Return lines only: the copies listed when the return was opened."),
    )
    damaged = models.PositiveIntegerField(
        _("copies damaged"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Return lines only: of the copies received, those that arrived damaged."),
    )
    unit_price = models.DecimalField(
        _("unit price (EUR)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["book__title", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "book"], name="item_one_line_per_book"),
            # A return line may end with 0 copies received (a shortfall); no other line is 0.
            models.CheckConstraint(
                condition=(~models.Q(quantity=0) | models.Q(requested__isnull=False))
                & models.Q(quantity__gte=-9999, quantity__lte=9999),
                name="item_quantity_nonzero_bounded",
            ),
            # A return line takes away at most the copies it listed; damaged ones are among
            # the copies received.
            models.CheckConstraint(
                condition=models.Q(requested__isnull=True)
                | models.Q(quantity__lte=0, quantity__gte=-1 * models.F("requested")),
                name="item_return_within_requested",
            ),
            models.CheckConstraint(
                condition=models.Q(damaged__isnull=True)
                | models.Q(requested__isnull=False, damaged__lte=-1 * models.F("quantity")),
                name="item_damaged_within_received",
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="item_unit_price_non_negative"
            ),
        ]

    def __str__(self):
        return f"{self.book} × {self.quantity}"

    def delete(self, *args, **kwargs):
        _refuse_ledger_delete(
            Operation.objects.filter(pk=self.operation_id, counts_in_stock=True).exists()
        )
        return super().delete(*args, **kwargs)

    @property
    def copies(self) -> int:
        """The number of copies on the line, without sign."""
        return abs(self.quantity)

    @property
    def amount(self) -> Decimal:
        return self.copies * self.unit_price

    @property
    def shortfall(self) -> int:
        """Return lines: copies listed but not received (they stay the partner's stock)."""
        if self.requested is None:
            return 0
        return self.requested - self.copies


@dataclass(frozen=True)
class Stock:
    """Copies a partner holds of one book, and those of them that its open returns reserve.

    The one definition of free copies (rules 3 and 10): what a sales report may sell or a
    return may list is what is held minus what open returns reserve. `FREE` says the same
    in SQL for rows read with `StockBalance.objects.with_free()`.
    """

    held: int = 0
    reserved: int = 0

    @property
    def free(self) -> int:
        return self.held - self.reserved

    def refusal(self, copies: int, *, none, reserved, short):
        """The words refusing to take `copies` from this stock, or None when the free copies
        cover them: `none` when no copy is held, `reserved` when open returns set some
        aside, `short` when too few are held."""
        if copies <= self.free:
            return None
        if self.held <= 0:
            return none
        return reserved if self.reserved else short


# Stock.free in SQL, for `.values()` reads.
FREE = models.F("quantity") - models.F("reserved")


class StockBalanceQuerySet(models.QuerySet):
    def held(self):
        return self.filter(quantity__gt=0)

    def with_free(self):
        """Each row also carries `free`: copies held and not reserved (Stock.free)."""
        return self.annotate(free=FREE)

    def held_by(self, *, partner) -> dict[int, int]:
        """{book_id: copies held} for every book the partner holds (one indexed query)."""
        return dict(self.held().filter(partner=partner).values_list("book_id", "quantity"))

    def stock_of(self, *, partner, book_ids=None) -> dict[int, Stock]:
        """{book_id: Stock} for every book the partner holds, or for those of `book_ids` it
        holds (one indexed query). A book not held is missing: read it as `Stock()`."""
        rows = self.held().filter(partner=partner)
        if book_ids is not None:
            rows = rows.filter(book_id__in=book_ids)
        return {
            book_id: Stock(held, reserved)
            for book_id, held, reserved in rows.values_list("book_id", "quantity", "reserved")
        }


class StockBalance(models.Model):
    """Copies a partner holds of a book, kept in step with the ledger.

    A cache of the items that count, written by the services in the same transaction as the
    items, under the partner's lock; `manage.py ledger_check` proves it equals the ledger.
    Every stock read uses it, so no page sums the whole history.
    """

    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        related_name="stock_balances",
        verbose_name=_("partner"),
    )
    book = models.ForeignKey(
        "catalog.Book",
        on_delete=models.PROTECT,
        related_name="stock_balances",
        verbose_name=_("book"),
    )
    quantity = models.IntegerField(_("copies held"), default=0)
    reserved = models.IntegerField(
        _("copies reserved"), default=0, help_text=_("Copies in the partner's open returns.")
    )
    delivered = models.IntegerField(_("copies delivered"), default=0)
    sold = models.IntegerField(_("copies sold"), default=0)
    last_delivery_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    last_sale_at = models.DateTimeField(_("last sale"), null=True, blank=True)

    objects = StockBalanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [
            models.UniqueConstraint(fields=["partner", "book"], name="stock_balance_unique"),
            # Rule 3 held by the database too: stock is never negative, and never less than
            # the copies reserved by open returns.
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="stock_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0, reserved__lte=models.F("quantity")),
                name="stock_balance_reserved_within_held",
            ),
        ]
        indexes = [
            models.Index(
                fields=["partner", "book"],
                condition=models.Q(quantity__gt=0),
                name="stock_balance_held",
            ),
            models.Index(
                fields=["book", "partner"],
                condition=models.Q(quantity__gt=0),
                name="stock_balance_held_by_book",
            ),
            # Slow movers: held copies, oldest delivery first.
            models.Index(
                fields=["last_delivery_at", "partner", "book"],
                condition=models.Q(quantity__gt=0),
                name="stock_balance_held_since",
            ),
        ]

    def __str__(self):
        return f"{self.partner_id}/{self.book_id}: {self.quantity}"

    @property
    def stock(self) -> Stock:
        """Copies held and reserved, as a Stock (its `free` copies)."""
        return Stock(self.quantity, self.reserved)


class Notification(models.Model):
    """An in-app notice for one person, about one operation.

    The text is not stored: it is rendered from `event` in the reader's language.
    """

    class Event(models.TextChoices):
        ORDER_PLACED = "order_placed", _("New order")
        ORDER_APPROVED = "order_approved", _("Order approved")
        ORDER_DELIVERED = "order_delivered", _("Order delivered")
        ORDER_REJECTED = "order_rejected", _("Order rejected")
        RETURN_REQUESTED = "return_requested", _("Return requested")
        RETURN_SHIPPED = "return_shipped", _("Return shipped")
        RETURN_RECALLED = "return_recalled", _("Copies recalled")
        RETURN_REFUSED = "return_refused", _("Return refused")
        RETURN_RECEIVED = "return_received", _("Return received")
        # Reminders (operations.reminders): the operation is the delivery awaiting its
        # report, or the sales report whose invoice is overdue.
        REPORT_REMINDER = "report_reminder", _("Reminder: report your sales")
        PAYMENT_REMINDER = "payment_reminder", _("Reminder: invoice overdue")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("operation"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.get_event_display()}: {self.operation}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Reminder(models.Model):
    """One reminder sent, under a key that names it once and for all
    ("report:<partner>:<delivery>:<n>", "overdue:<invoice>:<days>", "digest:<ISO week>").

    The row is written before the e-mail is queued, in the same transaction: the unique key
    makes a second run, or two runs at once, send nothing twice.
    """

    class Kind(models.TextChoices):
        REPORT = "report", _("Report your sales")
        OVERDUE = "overdue", _("Invoice overdue")
        DIGEST = "digest", _("Weekly digest")

    key = models.CharField(_("key"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("partner"),
    )
    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("operation"),
        help_text=_("The delivery awaiting its report, or the report whose invoice is due."),
    )
    invoice = models.ForeignKey(
        "operations.BillingDocument",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("invoice"),
    )
    step = models.PositiveIntegerField(
        _("step"), default=0, help_text=_("The n-th report reminder, or the days overdue.")
    )
    data = models.JSONField(_("figures"), default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return self.key


# Invoices and credit notes live in their own module; imported here so that Django finds them.
from operations.billing.models import (  # noqa: E402, F401
    Allocation,
    BillingDocument,
    BillingLine,
    CreditNote,
    Invoice,
    Payment,
)

# -- rollups: totals kept beside the balance, in the same transaction -----------------------
#
# Written by `operations.rollups.rollups_apply` wherever `balance_apply` runs (and by
# `balance_reserve` for copies reserved); `manage.py ledger_check` proves each equals the
# ledger. They let the back office read one row per book, per partner, or per month instead of
# grouping every balance or every item. A cache goes with its book or partner (CASCADE): the
# items and balances are what protect them from deletion.


class BookStockTotal(models.Model):
    """One book across partners: copies held, reserved, delivered, sold, and how many partners
    hold it."""

    book = models.OneToOneField(
        "catalog.Book",
        on_delete=models.CASCADE,
        related_name="stock_total",
        verbose_name=_("book"),
    )
    held = models.IntegerField(_("copies held"), default=0)
    reserved = models.IntegerField(_("copies reserved"), default=0)
    delivered = models.IntegerField(_("copies delivered"), default=0)
    sold = models.IntegerField(_("copies sold"), default=0)
    partners = models.IntegerField(_("partners holding"), default=0)

    class Meta:
        verbose_name = _("stock per book")
        verbose_name_plural = _("stock per book")
        indexes = [
            models.Index(
                fields=["held"], condition=models.Q(held__gt=0), name="book_stock_total_held"
            ),
        ]

    def __str__(self):
        return f"{self.book_id}: {self.held}"


class PartnerStockTotal(models.Model):
    """One partner across books: copies held and titles held."""

    partner = models.OneToOneField(
        "accounts.Partner",
        on_delete=models.CASCADE,
        related_name="stock_total",
        verbose_name=_("partner"),
    )
    held = models.IntegerField(_("copies held"), default=0)
    titles = models.IntegerField(_("titles held"), default=0)

    class Meta:
        verbose_name = _("stock per partner")
        verbose_name_plural = _("stock per partner")

    def __str__(self):
        return f"{self.partner_id}: {self.held}"


class PartnerSalesMonth(models.Model):
    """One partner's month (local time): copies delivered (dated by delivery), sold and their
    retail revenue (dated by the report), returned and damaged (dated by the receipt). A void
    takes its report back out of the report's month."""

    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.CASCADE,
        related_name="sales_months",
        verbose_name=_("partner"),
    )
    month = models.DateField(_("month"))
    delivered = models.IntegerField(_("copies delivered"), default=0)
    sold = models.IntegerField(_("copies sold"), default=0)
    revenue = models.DecimalField(
        _("revenue at retail"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    returned = models.IntegerField(_("copies returned"), default=0)
    damaged = models.IntegerField(_("copies damaged"), default=0)

    class Meta:
        verbose_name = _("partner's sales per month")
        verbose_name_plural = _("partners' sales per month")
        constraints = [
            models.UniqueConstraint(fields=["partner", "month"], name="partner_sales_month_unique")
        ]
        indexes = [models.Index(fields=["month", "partner"], name="partner_sales_month_month")]

    def __str__(self):
        return f"{self.partner_id} {self.month:%Y-%m}: {self.sold}"


class BookSalesMonth(models.Model):
    """One book's month (local time, dated by the report): copies sold across partners and
    their retail revenue. A void takes its report back out."""

    book = models.ForeignKey(
        "catalog.Book",
        on_delete=models.CASCADE,
        related_name="sales_months",
        verbose_name=_("book"),
    )
    month = models.DateField(_("month"))
    sold = models.IntegerField(_("copies sold"), default=0)
    revenue = models.DecimalField(
        _("revenue at retail"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("book's sales per month")
        verbose_name_plural = _("books' sales per month")
        constraints = [
            models.UniqueConstraint(fields=["book", "month"], name="book_sales_month_unique")
        ]
        indexes = [
            # A period across every book (best sellers): its months only, read from the
            # index alone.
            models.Index(
                fields=["month", "book", "sold", "revenue"], name="book_sales_month_covering"
            )
        ]

    def __str__(self):
        return f"{self.book_id} {self.month:%Y-%m}: {self.sold}"


class PartnerBookSalesMonth(models.Model):
    """One partner's sales of one book in a month (local time, dated by the report): copies
    sold and their retail revenue. Tells how many partners sold a book in a period."""

    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.CASCADE,
        related_name="book_sales_months",
        verbose_name=_("partner"),
    )
    book = models.ForeignKey(
        "catalog.Book",
        on_delete=models.CASCADE,
        related_name="partner_sales_months",
        verbose_name=_("book"),
    )
    month = models.DateField(_("month"))
    sold = models.IntegerField(_("copies sold"), default=0)
    revenue = models.DecimalField(
        _("revenue at retail"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("partner's sales of a book per month")
        verbose_name_plural = _("partners' sales of books per month")
        constraints = [
            models.UniqueConstraint(
                fields=["book", "month", "partner"], name="partner_book_sales_month_unique"
            )
        ]

    def __str__(self):
        return f"{self.partner_id}/{self.book_id} {self.month:%Y-%m}: {self.sold}"


from operations.export_models import ExportFile  # noqa: E402, F401
