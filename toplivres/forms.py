"""Form helpers shared by the apps."""

from django import forms
from django.utils.translation import gettext_lazy as _


class OneValuePerFieldMixin:
    """A field posted twice (a doubled or tampered form) is refused next to the field:
    Django would silently read the last value, and record it."""

    duplicate_message = _("This field was sent more than once: enter one value.")

    def full_clean(self):
        super().full_clean()
        if not self.is_bound or not hasattr(self.data, "getlist"):
            return
        for name, field in self.fields.items():
            if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                continue
            if len(self.data.getlist(self.add_prefix(name))) > 1:
                self.add_error(name, self.duplicate_message)
