"""Forms of the back office for accounts: they parse; the services write."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner, User


class PartnerCreationForm(forms.ModelForm):
    """Store details and the e-mail address that receives the invitation. No password: the
    partner chooses it from the invitation link."""

    email = forms.EmailField(label=_("e-mail address"), max_length=254)
    language = forms.ChoiceField(
        label=_("language"),
        choices=settings.LANGUAGES,
        initial="fr",
        help_text=_("Language of the e-mails this partner receives."),
    )

    class Meta:
        model = Partner
        fields = [
            "store_name",
            "contact_name",
            "address",
            "postal_code",
            "city",
            "phone",
            "commission_rate",
        ]

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Kept with the account; the partner cannot log in until reactivated."),
    )


class AdminUserCreationForm(BaseUserCreationForm):
    """A member of the publisher's team: staff in the back-office group, not a superuser.
    Partners are created from the partner admin."""

    class Meta:
        model = User
        fields = ("email", "full_name", "language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.role = User.Role.ADMIN
        self.instance.is_staff = True
        self.instance.is_superuser = False

    def _save_m2m(self):
        super()._save_m2m()
        from accounts.roles import back_office_group

        self.instance.groups.add(back_office_group())
