"""The lines of the ledger's operations: a book, a signed quantity, the unit price."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from operations.models.ledger import Operation, _refuse_ledger_delete


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
