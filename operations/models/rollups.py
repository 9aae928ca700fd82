"""Totals per book, per partner and per month, kept beside the stock balances."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

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


class _BookSales(models.Model):
    """Copies sold and their retail revenue (the figures of a book's sales rollups)."""

    sold = models.IntegerField(_("copies sold"), default=0)
    revenue = models.DecimalField(
        _("revenue at retail"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        abstract = True


class _PartnerSales(models.Model):
    """A partner's figures: copies delivered, sold and their retail revenue, returned and
    damaged (the figures of a partner's sales rollups)."""

    delivered = models.IntegerField(_("copies delivered"), default=0)
    sold = models.IntegerField(_("copies sold"), default=0)
    revenue = models.DecimalField(
        _("revenue at retail"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    returned = models.IntegerField(_("copies returned"), default=0)
    damaged = models.IntegerField(_("copies damaged"), default=0)

    class Meta:
        abstract = True


class PartnerSalesMonth(_PartnerSales):
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

    class Meta:
        verbose_name = _("partner's sales per month")
        verbose_name_plural = _("partners' sales per month")
        constraints = [
            models.UniqueConstraint(fields=["partner", "month"], name="partner_sales_month_unique")
        ]
        indexes = [
            # A period across every partner (sales per month and per partner): its months
            # only, read from the index alone.
            models.Index(
                fields=["month", "partner", "delivered", "sold", "revenue", "returned", "damaged"],
                name="partner_sales_month_covering",
            )
        ]

    def __str__(self):
        return f"{self.partner_id} {self.month:%Y-%m}: {self.sold}"


class BookSalesMonth(_BookSales):
    """One book's month (local time, dated by the report): copies sold across partners and
    their retail revenue. A void takes its report back out."""

    book = models.ForeignKey(
        "catalog.Book",
        on_delete=models.CASCADE,
        related_name="sales_months",
        verbose_name=_("book"),
    )
    month = models.DateField(_("month"))

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


class PartnerBookSalesMonth(_BookSales):
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


# -- the trailing twelve months --------------------------------------------------------------
#
# The sales analytics open on the last twelve calendar months. Summing them month by month
# reads one row per book (or partner) and month; these rows hold the twelve months already
# summed, one per book and one per partner, for the window that `SalesWindow` names. The
# services add to them in the same transaction as the months (operations.rollups); the first
# read in a new month rolls the window (`trailing_roll`), from the monthly rollups.


class SalesWindow(models.Model):
    """The last month of the trailing twelve months that the trailing rollups hold (a single
    row, pk 1; its month is empty until the first roll)."""

    month = models.DateField(_("last month"), null=True)

    class Meta:
        verbose_name = _("trailing twelve months")
        verbose_name_plural = _("trailing twelve months")

    def __str__(self):
        return f"{self.month:%Y-%m}"


class BookSalesTrailing(_BookSales):
    """One book's sales in the twelve months ending with `window` (local time, dated by the
    report): the sum of its `BookSalesMonth` rows for those months."""

    window = models.DateField(_("last month"))
    book = models.ForeignKey(
        "catalog.Book",
        on_delete=models.CASCADE,
        related_name="trailing_sales",
        verbose_name=_("book"),
    )

    class Meta:
        verbose_name = _("book's sales over twelve months")
        verbose_name_plural = _("books' sales over twelve months")
        constraints = [
            models.UniqueConstraint(fields=["window", "book"], name="book_sales_trailing_unique")
        ]
        indexes = [
            # Best sellers: the window's books by copies sold, read from the index alone.
            models.Index(
                fields=["window", "-sold", "book", "revenue"], name="book_sales_trailing_rank"
            )
        ]

    def __str__(self):
        return f"{self.book_id} to {self.window:%Y-%m}: {self.sold}"


class PartnerSalesTrailing(_PartnerSales):
    """One partner's twelve months ending with `window` (local time): the sum of its
    `PartnerSalesMonth` rows for those months."""

    window = models.DateField(_("last month"))
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.CASCADE,
        related_name="trailing_sales",
        verbose_name=_("partner"),
    )

    class Meta:
        verbose_name = _("partner's sales over twelve months")
        verbose_name_plural = _("partners' sales over twelve months")
        constraints = [
            models.UniqueConstraint(
                fields=["window", "partner"], name="partner_sales_trailing_unique"
            )
        ]

    def __str__(self):
        return f"{self.partner_id} to {self.window:%Y-%m}: {self.sold}"
