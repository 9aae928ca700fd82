"""Payments received from partners, and how they are applied to invoices (DOMAIN rule 11).

A `Payment` is money received: never deleted, cancelled with a reason (it then counts for
nothing). An `Allocation` applies part of a source to one invoice; the source is a payment
or a credit note (exactly one of the two). A credit note first reduces what is still open on
its own invoice; the rest, like the unapplied part of a payment, is the partner's credit.

    open amount of an invoice = its total − its allocations
    partner credit            = payments − their allocations + credit notes − their allocations
    balance                   = invoices − credit notes − payments (not cancelled)
                              = Σ open amounts − credit

Cancelling a payment deletes its allocations (the cancellation's audit row lists them): the
allocations of a cancelled payment never exist, so every sum above reads the rows as they
are. The sums that span rows (an invoice never paid beyond its total, a payment never
applied beyond its amount) are kept by the services under the partner's lock and verified
by `ledger_check` (operations/billing/checks.py).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import purge_is_allowed

MONEY = models.DecimalField(max_digits=14, decimal_places=2)
ZERO = models.Value(Decimal("0.00"), output_field=MONEY)
# SQLite sums decimals as floats: amounts closer than half a cent are equal.
HALF_CENT = Decimal("0.005")


class PaymentDeleteError(Exception):
    def __init__(self):
        super().__init__("A payment is never deleted: cancel it with a reason instead.")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "transfer", _("Bank transfer")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    OTHER = "other", _("Other")


class PaymentQuerySet(models.QuerySet):
    def delete(self):
        if not purge_is_allowed():  # seed_demo --reset only
            raise PaymentDeleteError()
        return super().delete()

    delete.queryset_only = True
    delete.alters_data = True

    def valid(self):
        """Payments that count: not cancelled."""
        return self.filter(cancelled_at__isnull=True)

    def cancelled(self):
        return self.filter(cancelled_at__isnull=False)

    def with_unallocated(self):
        allocated = (
            Allocation.objects.filter(payment=models.OuterRef("pk"))
            .order_by()
            .values("payment")
            .annotate(total=models.Sum("amount"))
            .values("total")
        )
        return self.annotate(
            allocated=Coalesce(models.Subquery(allocated, output_field=MONEY), ZERO)
        ).annotate(unallocated=models.F("amount") - models.F("allocated"))


class Payment(models.Model):
    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("partner"),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("received on"))
    method = models.CharField(
        _("method"),
        max_length=10,
        choices=PaymentMethod.choices,
        default=PaymentMethod.BANK_TRANSFER,
    )
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("Bank transfer label, cheque number…"),
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(cancelled_at__isnull=True) | ~models.Q(cancel_reason=""),
                name="payment_cancelled_with_reason",
            ),
            # The same payment cannot be recorded twice (rule 11); a cancelled one may be
            # recorded again.
            models.UniqueConstraint(
                fields=["partner", "amount", "received_on", "reference"],
                condition=models.Q(cancelled_at__isnull=True),
                name="payment_recorded_once",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "received_on"], name="payment_partner_received"),
        ]

    def __str__(self):
        label = f"{self.amount} EUR · {self.received_on:%Y-%m-%d}"
        return f"{label} · {self.reference}" if self.reference else label

    def delete(self, *args, **kwargs):
        if not purge_is_allowed():
            raise PaymentDeleteError()
        return super().delete(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.received_on and self.received_on > timezone.localdate():
            raise ValidationError({"received_on": _("A payment cannot be received in the future.")})
        if self.amount is not None and self.amount <= 0:
            raise ValidationError({"amount": _("The amount must be greater than zero.")})

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Allocation(models.Model):
    """Part of a payment, or of a credit note, applied to one invoice of the same partner."""

    partner = models.ForeignKey(
        "accounts.Partner",
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("partner"),
    )
    invoice = models.ForeignKey(
        "operations.BillingDocument",
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("invoice"),
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("payment"),
    )
    credit_note = models.ForeignKey(
        "operations.BillingDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_allocations",
        verbose_name=_("credit note"),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("applied at"), default=timezone.now)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="allocation_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(payment__isnull=False, credit_note__isnull=True)
                | models.Q(payment__isnull=True, credit_note__isnull=False),
                name="allocation_one_source",
            ),
            models.CheckConstraint(
                condition=~models.Q(credit_note=models.F("invoice")),
                name="allocation_not_to_itself",
            ),
        ]

    def __str__(self):
        return f"{self.amount} EUR → {self.invoice_id}"

    @property
    def source(self):
        return self.payment if self.payment_id else self.credit_note
