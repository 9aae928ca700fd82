"""Numbers handed out under a lock: operation references, and each partner's event order."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
