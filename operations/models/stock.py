"""Stock as the services keep it: the copies each partner holds of each book."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


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
            # A partner's titles held, with their copies: the dashboard's stock value reads
            # them from the index alone.
            models.Index(
                fields=["partner", "book", "quantity"],
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
