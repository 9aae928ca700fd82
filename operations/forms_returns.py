"""The partner's return form: per title, copies to send back, or copies to keep on the
shelf (returned = free copies - kept)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from operations.forms import _copies_field
from operations.services import Line


class ReturnForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the publisher (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    PAGE_KEYS = frozenset({"csrfmiddlewaretoken"})
    LINE_KEY = re.compile(r"^(back|keep)_(\d{1,18})$")

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            pk, title = row["book_id"], row["book__title"]
            self.fields[f"back_{pk}"] = _copies_field(
                label=_("Copies of %(title)s to send back") % {"title": title}, required=False
            )
            self.fields[f"keep_{pk}"] = _copies_field(
                label=_("Copies of %(title)s to keep on the shelf") % {"title": title},
                required=False,
            )

    def clean(self):
        cleaned = super().clean()
        self.back: dict[int, int] = {}
        unknown = [
            name for name in self.data if name not in self.fields and name not in self.PAGE_KEYS
        ]
        if unknown:
            raise forms.ValidationError(
                _(
                    "The form sent a field it does not know, or a title you do not hold: nothing "
                    "was requested."
                )
            )
        for row in self.rows:
            pk, free = row["book_id"], row["free"]
            back_name, keep_name = f"back_{pk}", f"keep_{pk}"
            if back_name in self.errors or keep_name in self.errors:
                continue
            back, keep = cleaned.get(back_name), cleaned.get(keep_name)
            if keep is not None:
                if keep > free:
                    self.add_error(
                        keep_name,
                        _("%(free)s copies can go back: you cannot keep more.") % {"free": free},
                    )
                    continue
                if back is not None and back != free - keep:
                    self.add_error(
                        back_name,
                        _(
                            "Back and kept disagree: of %(free)s copies, keeping %(keep)s means "
                            "sending %(back)s back. Fill in one of the two."
                        )
                        % {"free": free, "keep": keep, "back": free - keep},
                    )
                    continue
                back = free - keep
            if back and back > free:
                self.add_error(
                    back_name,
                    _("At most %(free)s copies can go back.") % {"free": free},
                )
                continue
            if back:
                self.back[pk] = back
        if not self.errors and not self.back:
            raise forms.ValidationError(_("Say how many copies of at least one title go back."))
        return cleaned

    def service_lines(self) -> list[Line]:
        return [Line(book_id=pk, copies=n) for pk, n in self.back.items()]

    def lines(self) -> list[dict]:
        return [
            {
                **row,
                "back_field": self[f"back_{row['book_id']}"],
                "keep_field": self[f"keep_{row['book_id']}"],
            }
            for row in self.rows
        ]


class ShipForm(forms.Form):
    carrier_reference = forms.CharField(
        label=_("Carrier reference (optional)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
