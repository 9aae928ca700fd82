"""The period of a consignment statement: two dates, read from the query string."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

# A statement reads the partner's whole ledger once; a century is enough for any period.
EARLIEST = date(2000, 1, 1)


class StatementPeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, data=None, *, today: date):
        self.today = today
        initial = {"date_from": today.replace(day=1), "date_to": today}
        if data is not None and not ({"date_from", "date_to"} & set(data)):
            data = None  # the first visit: this month so far
        super().__init__(data, initial=initial)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if end is not None and end > self.today:
            self.add_error("date_to", _("The statement cannot end after today."))
        if start is not None and start < EARLIEST:
            self.add_error("date_from", _("Choose a date from 2000 on."))
        if start is not None and end is not None and start > end:
            self.add_error("date_from", _("The start comes after the end of the period."))
        return cleaned

    def period(self) -> tuple[date, date]:
        """The period asked for, or this month so far when the form is unbound or invalid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        return self.initial["date_from"], self.initial["date_to"]
