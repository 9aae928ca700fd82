"""What the app tells people: in-app notifications, and the reminders sent by e-mail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from operations.models.ledger import Operation


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
