from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner, User
from toplivres.forms import OneValuePerFieldMixin


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for e-mail login."""

    username = forms.EmailField(
        label=_("E-mail address"),
        # As long as User.email: a longer address is no account, and would overflow the
        # login throttling's own records.
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def get_invalid_login_error(self):
        # Only someone who typed the right password learns that the account is suspended;
        # anyone else gets the usual answer, whether the address exists or not.
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        user = User.objects.filter(email__iexact=username, is_active=False).first()
        if user is not None and password and user.check_password(password):
            contact = settings.CONTACT_EMAIL
            if contact:
                message = _(
                    "This account is suspended. To restore access, contact the publisher "
                    "at %(contact)s."
                ) % {"contact": contact}
            else:
                message = _("This account is suspended. To restore access, contact the publisher.")
            return ValidationError(message, code="inactive")
        return super().get_invalid_login_error()


class PartnerDetailsForm(OneValuePerFieldMixin, forms.ModelForm):
    """The store details a partner keeps up to date itself (not its commission)."""

    class Meta:
        model = Partner
        fields = ["store_name", "contact_name", "address", "postal_code", "city", "phone"]
        widgets = {
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class LanguageForm(OneValuePerFieldMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
