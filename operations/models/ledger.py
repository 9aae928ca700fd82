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
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from operations.lifecycle import (
    COUNTS_IN_STOCK,
    NEEDS_REASON,
    OPEN_ORDER_STATUSES,
    OPEN_RETURN_STATUSES,
    STATUS_FITS_KIND,
    Kind,
    Status,
    can_become,
)

# The events rule 2 orders: a delivery waits for a report that comes after it.
RULE_2_EVENTS = models.Q(kind=Kind.ORDER, status=Status.DELIVERED) | models.Q(
    kind=Kind.REPORT, status=Status.RECORDED
)


def cents(amount) -> Decimal:
    """Round a money amount to the cent, halves up (as on an invoice)."""
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def amount_due(*, revenue: Decimal, commission_rate: Decimal) -> Decimal:
    """Due to the publisher: revenue x (1 - commission), to the cent."""
    return cents(Decimal(revenue) * (Decimal(1) - Decimal(commission_rate) / Decimal(100)))


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
            # The partner's last event of rule 2 (a delivery or a recorded report) and its
            # kind, read from the index alone: one probe per partner for the order desk.
            models.Index(
                fields=["partner", "counted_seq", "kind"],
                condition=RULE_2_EVENTS,
                name="op_partner_rule_2_seq",
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

    # "Item" names operations.models.items.Item, which imports this module: named here, not
    # imported, so that the two modules do not import each other.
    @property
    def lines(self) -> list["Item"]:  # noqa: F821
        """The items to validate: those given before saving, else those stored."""
        pending = getattr(self, "_pending_lines", None)
        if pending is not None:
            return pending
        if self.pk is None:
            return []
        return list(self.items.select_related("book"))

    def set_pending_lines(self, lines: list["Item"]) -> None:  # noqa: F821
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
        # Imported here, not at the top: the package registers the stock models after the
        # ledger's, as they were declared (see operations/models/__init__.py).
        from operations.models.stock import Stock, StockBalance

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
