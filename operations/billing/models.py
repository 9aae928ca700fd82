"""Invoices and credit notes: facts, written once by the report services, never changed.

One table holds both kinds (`BillingDocument.kind`): they share every column, their lines
and their rendering. `Invoice` and `CreditNote` are proxies that see one kind each.

Every column a document prints is frozen at issue: the seller's legal identity, the buyer's
name and address, the dates, the rates and the amounts. The PDF and the Factur-X XML are
rendered from these rows only, never from today's partner, book or settings.

Nothing changes a document once written: `save()` refuses an existing row, `delete()` and
the querysets' `update()` / `delete()` refuse, the admin is read-only, and the foreign keys
that lead here PROTECT. (A raw SQL statement is the one way left; `billing_violations`
finds what it would break.)
"""

from decimal import Decimal

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import purge_is_allowed

# Payments and their allocations live beside the documents they pay.
from operations.billing.payments import HALF_CENT, MONEY, ZERO, Allocation, Payment  # noqa: F401


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


NUMBER_PREFIXES = {DocumentKind.INVOICE: "FAC", DocumentKind.CREDIT_NOTE: "AVO"}


def _sum_is(total: str, *parts: str) -> models.Q:
    """total == sum(parts), to a tenth of a cent: SQLite compares decimals as floats."""
    summed = sum((models.F(part) for part in parts[1:]), models.F(parts[0]))
    tolerance = models.Value(Decimal("0.001"))
    return models.Q(**{f"{total}__gte": summed - tolerance, f"{total}__lte": summed + tolerance})


class ImmutableError(Exception):
    """An invoice, a credit note or one of their lines is never changed nor deleted."""

    def __init__(self, what="billing document"):
        super().__init__(f"A {what} is never changed nor deleted: issue a credit note instead.")


class ImmutableQuerySet(models.QuerySet):
    """Inserts only (bulk_create is how the services write lines): no update, no delete."""

    def update(self, **kwargs):
        raise ImmutableError()

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableError()

    def update_or_create(self, *args, **kwargs):
        raise ImmutableError()

    def delete(self):
        if not purge_is_allowed():  # seed_demo --reset only
            raise ImmutableError()
        return super().delete()


class InvoiceStatus(models.TextChoices):
    """Derived, never stored: a document never changes once issued; what is paid on it
    comes from its allocations (operations/billing/payments.py)."""

    OPEN = "open", _("To pay")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CREDITED = "credited", _("Cancelled by a credit note")
    ISSUED = "issued", _("Issued")  # a credit note


class DocumentQuerySet(ImmutableQuerySet):
    def invoices(self):
        return self.filter(kind=DocumentKind.INVOICE)

    def credit_notes(self):
        return self.filter(kind=DocumentKind.CREDIT_NOTE)

    def with_allocated(self):
        """Annotate `allocated` (what payments and credit notes paid on an invoice) and
        `open_amount` (its total less that), in the same query."""
        if "allocated" in self.query.annotations:
            return self
        allocated = (
            Allocation.objects.filter(invoice=models.OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=models.Sum("amount"))
            .values("total")
        )
        return self.annotate(
            allocated=Coalesce(models.Subquery(allocated, output_field=MONEY), ZERO)
        ).annotate(open_amount=models.F("total_incl_vat") - models.F("allocated"))

    def with_unapplied(self):
        """Annotate credit notes with `applied` (to invoices) and `unapplied` (the credit
        they leave the partner), in the same query."""
        applied = (
            Allocation.objects.filter(credit_note=models.OuterRef("pk"))
            .order_by()
            .values("credit_note")
            .annotate(total=models.Sum("amount"))
            .values("total")
        )
        return self.annotate(
            applied=Coalesce(models.Subquery(applied, output_field=MONEY), ZERO)
        ).annotate(unapplied=models.F("total_incl_vat") - models.F("applied"))

    def open(self):
        """Invoices with something still to pay."""
        return self.invoices().with_allocated().filter(open_amount__gt=HALF_CENT)

    def with_status(self, status: str, *, today=None):
        today = today or timezone.localdate()
        if status == InvoiceStatus.ISSUED:
            return self.filter(kind=DocumentKind.CREDIT_NOTE)
        rows = self.invoices().with_allocated()
        unpaid = models.Q(open_amount__gt=HALF_CENT)
        settled = ~unpaid
        credited = models.Q(credit_note__isnull=False)
        not_due = models.Q(due_date__gte=today)
        touched = models.Q(allocated__gt=HALF_CENT)
        return rows.filter(
            {
                InvoiceStatus.OPEN: unpaid & not_due & ~touched,
                InvoiceStatus.PARTLY_PAID: unpaid & not_due & touched,
                InvoiceStatus.OVERDUE: unpaid & ~not_due,
                InvoiceStatus.PAID: settled & ~credited,
                InvoiceStatus.CREDITED: settled & credited,
            }[status]
        )


class BillingDocument(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    report = models.ForeignKey(
        "operations.Operation",
        on_delete=models.PROTECT,
        related_name="billing_documents",
        verbose_name=_("sales report"),
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        related_name="billing_documents",
        verbose_name=_("partner"),
    )
    credited_invoice = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_note",
        verbose_name=_("credited invoice"),
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    language = models.CharField(_("language"), max_length=10)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    # The seller, as it was.
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_address = models.CharField(_("seller address"), max_length=300)
    seller_postal_code = models.CharField(_("seller postal code"), max_length=20)
    seller_city = models.CharField(_("seller city"), max_length=120)
    seller_country = models.CharField(_("seller country"), max_length=2, default="FR")
    seller_siren = models.CharField(_("SIREN"), max_length=9)
    seller_siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    seller_vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    seller_vat_exempt_mention = models.CharField(
        _("VAT exemption mention"), max_length=200, blank=True
    )
    seller_email = models.CharField(_("seller e-mail"), max_length=254, blank=True)
    seller_iban = models.CharField(_("IBAN"), max_length=40, blank=True)

    # The buyer, as it was.
    buyer_name = models.CharField(_("buyer"), max_length=200)
    buyer_address = models.CharField(_("buyer address"), max_length=300, blank=True)
    buyer_postal_code = models.CharField(_("buyer postal code"), max_length=20, blank=True)
    buyer_city = models.CharField(_("buyer city"), max_length=120, blank=True)
    buyer_country = models.CharField(_("buyer country"), max_length=2, default="FR")
    buyer_email = models.CharField(_("buyer e-mail"), max_length=254, blank=True)

    # Terms and rates.
    commission_rate = models.DecimalField(_("commission rate (%)"), max_digits=5, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"))
    late_penalty_rate = models.DecimalField(
        _("late payment penalty rate (%)"), max_digits=5, decimal_places=2
    )
    recovery_indemnity = models.DecimalField(
        _("fixed recovery indemnity (EUR)"), max_digits=8, decimal_places=2
    )

    # Totals: each the sum of its line column (money.totals_of).
    total_gross = models.DecimalField(_("sales at retail"), max_digits=12, decimal_places=2)
    total_commission = models.DecimalField(_("commission"), max_digits=12, decimal_places=2)
    total_excl_vat = models.DecimalField(_("total excl. VAT"), max_digits=12, decimal_places=2)
    total_vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField(_("total incl. VAT"), max_digits=12, decimal_places=2)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("billing document")
        verbose_name_plural = _("billing documents")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "sequence"], name="billing_number_unique_per_year"
            ),
            # One invoice per report, one credit note per report.
            models.UniqueConstraint(fields=["report", "kind"], name="billing_one_per_report"),
            models.CheckConstraint(
                condition=models.Q(kind=DocumentKind.INVOICE, credited_invoice__isnull=True)
                | models.Q(kind=DocumentKind.CREDIT_NOTE, credited_invoice__isnull=False),
                name="billing_credit_note_credits_an_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="billing_sequence_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(total_incl_vat__gte=0, total_vat__gte=0, total_gross__gte=0),
                name="billing_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=_sum_is("total_incl_vat", "total_excl_vat", "total_vat"),
                name="billing_total_is_net_plus_vat",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "kind", "-issue_date"], name="billing_partner_kind"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        # Written once (insert); never updated.
        if not self._state.adding:
            raise ImmutableError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError()

    @property
    def is_invoice(self) -> bool:
        return self.kind == DocumentKind.INVOICE

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    def paid_amount(self) -> Decimal:
        """What payments and credit notes paid on this invoice: the `allocated` annotation
        of `with_allocated()` when the row has it (no query), else one query."""
        if hasattr(self, "allocated"):
            return Decimal(self.allocated).quantize(Decimal("0.01"))
        total = self.allocations.aggregate(total=models.Sum("amount"))["total"]
        return Decimal(total or 0).quantize(Decimal("0.01"))

    def still_due(self) -> Decimal:
        """What is still to pay on an invoice (zero for a credit note)."""
        if self.is_credit_note:
            return Decimal("0.00")
        return self.total_incl_vat - self.paid_amount()

    def status(self, *, today=None) -> str:
        """Needs `credit_note` (select_related) and `with_allocated()` to avoid queries."""
        if self.is_credit_note:
            return InvoiceStatus.ISSUED
        if self.still_due() <= 0:
            if getattr(self, "credit_note", None) is not None:
                return InvoiceStatus.CREDITED
            return InvoiceStatus.PAID
        if self.due_date < (today or timezone.localdate()):
            return InvoiceStatus.OVERDUE
        if self.paid_amount() > 0:
            return InvoiceStatus.PARTLY_PAID
        return InvoiceStatus.OPEN

    def get_status_display(self) -> str:
        return InvoiceStatus(self.status()).label

    @property
    def vat_exempt(self) -> bool:
        return bool(self.seller_vat_exempt_mention) and not self.seller_vat_number

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


class InvoiceManager(models.Manager.from_queryset(DocumentQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=DocumentKind.INVOICE)


class CreditNoteManager(models.Manager.from_queryset(DocumentQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=DocumentKind.CREDIT_NOTE)


class Invoice(BillingDocument):
    """What the bookstore owes for the copies a recorded report sold."""

    objects = InvoiceManager()

    class Meta:
        proxy = True
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at", "-pk"]


class CreditNote(BillingDocument):
    """Cancels an invoice in full, when its report is voided. The invoice stays."""

    objects = CreditNoteManager()

    class Meta:
        proxy = True
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_at", "-pk"]


class BillingLine(models.Model):
    """One line of an invoice or credit note: a title sold, with its amounts (money.py)."""

    document = models.ForeignKey(
        BillingDocument,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("document"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    isbn = models.CharField(_("ISBN"), max_length=13)
    title = models.CharField(_("title"), max_length=300)
    copies = models.PositiveIntegerField(_("copies"))
    unit_price = models.DecimalField(
        _("retail unit price incl. VAT"), max_digits=8, decimal_places=2
    )
    commission_rate = models.DecimalField(_("commission rate (%)"), max_digits=5, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    gross = models.DecimalField(_("sales at retail"), max_digits=12, decimal_places=2)
    commission = models.DecimalField(_("commission"), max_digits=12, decimal_places=2)
    net_excl_vat = models.DecimalField(_("net excl. VAT"), max_digits=12, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    net_incl_vat = models.DecimalField(_("net incl. VAT"), max_digits=12, decimal_places=2)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position"], name="billing_line_position_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(copies__gte=1), name="billing_line_copies_positive"
            ),
            models.CheckConstraint(
                condition=_sum_is("net_incl_vat", "net_excl_vat", "vat"),
                name="billing_line_net_is_excl_plus_vat",
            ),
        ]

    def __str__(self):
        return f"{self.document_id} #{self.position}: {self.title} × {self.copies}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("billing line")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("billing line")

    @property
    def unit_net_incl_vat(self) -> Decimal:
        return self.net_incl_vat / self.copies
