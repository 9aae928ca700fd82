"""Forms of the money pages: a payment with optional explicit allocation, a reason to
cancel one, applying credit, and a statement's period. They parse; the services decide."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operations.billing.payments import PaymentMethod

MAX_AMOUNT = Decimal("9999999999.99")


def _apply_fields(form, invoices, *, label_suffix=""):
    """One optional "apply" field per open invoice, capped at its open amount."""
    form.invoices = invoices
    for invoice in invoices:
        form.fields[f"apply_{invoice.pk}"] = forms.DecimalField(
            label=_("%(number)s (due %(due)s): apply")
            % {"number": invoice.number, "due": invoice.due_date.isoformat()},
            required=False,
            min_value=Decimal("0.00"),
            max_value=Decimal(invoice.open_amount).quantize(Decimal("0.01")),
            max_digits=12,
            decimal_places=2,
            help_text=_("Still to pay: %(open)s EUR") % {"open": invoice.open_amount},
        )


def _explicit(form) -> dict[int, Decimal]:
    """{invoice id: amount} of the apply fields filled in with more than zero."""
    return {
        invoice.pk: form.cleaned_data[f"apply_{invoice.pk}"]
        for invoice in form.invoices
        if form.cleaned_data.get(f"apply_{invoice.pk}")
    }


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (EUR)"),
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        max_digits=12,
        decimal_places=2,
    )
    received_on = forms.DateField(
        label=gettext_lazy("Received on"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("YYYY-MM-DD"),
    )
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Bank transfer label, cheque number…"),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        _apply_fields(self, invoices)

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise ValidationError(_("A payment cannot be received in the future."))
        if received_on < date(2000, 1, 1):
            raise ValidationError(_("Enter a date after 2000."))
        return received_on

    def clean(self):
        cleaned = super().clean()
        explicit = _explicit(self) if not self.errors else {}
        amount = cleaned.get("amount")
        if explicit and amount is not None and sum(explicit.values()) > amount:
            raise ValidationError(
                _("You applied %(applied)s EUR, more than the payment of %(amount)s EUR.")
                % {"applied": sum(explicit.values()), "amount": amount}
            )
        return cleaned

    def allocate_to(self) -> dict[int, Decimal] | None:
        """The admin's explicit allocation, or None to apply oldest due first."""
        return _explicit(self) or None


class ApplyCreditForm(forms.Form):
    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        _apply_fields(self, invoices)

    def allocate_to(self) -> dict[int, Decimal] | None:
        return _explicit(self) or None


class CancelPaymentForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Kept with the payment and in the audit log."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the payment is cancelled."))
        return reason


class PeriodForm(forms.Form):
    """A statement's period; either end may be left open."""

    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise ValidationError(_("The period must start before it ends."))
        return cleaned

    def period(self) -> tuple[date | None, date | None]:
        """The period asked for; the current year up to today when the form is invalid or
        empty."""
        today = timezone.localdate()
        if not self.is_bound or not self.is_valid():
            return date(today.year, 1, 1), today
        start = self.cleaned_data.get("date_from")
        end = self.cleaned_data.get("date_to")
        if start is None and end is None:
            return date(today.year, 1, 1), today
        return start, end
