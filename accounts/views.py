from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import partner_required
from accounts.forms import EmailAuthenticationForm, LanguageForm, PartnerDetailsForm
from accounts.services import partner_update_details, user_password_changed, user_set_language

DETAIL_FIELDS = PartnerDetailsForm.Meta.fields


def _account_page(request, *, details_form=None, language_form=None, status=200):
    partner = request.partner
    context = {
        "partner": partner,
        "details_form": details_form or PartnerDetailsForm(instance=partner),
        "language_form": language_form or LanguageForm(initial={"language": request.user.language}),
    }
    return render(request, "accounts/account.html", context, status=status)


@partner_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The store's details; POST saves them."""
    if request.method == "GET":
        return _account_page(request)
    form = PartnerDetailsForm(request.POST, instance=request.partner)
    if not form.is_valid():
        return _account_page(request, details_form=form)
    details = {name: form.cleaned_data[name] for name in DETAIL_FIELDS}
    try:
        partner_update_details(partner=request.partner, by=request.user, **details)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _account_page(request, details_form=form)
    messages.success(request, _("Your store details are saved."))
    return redirect("accounts:account")


@partner_required
@require_POST
def account_language(request):
    """Save the partner's language, use it at once and remember it in the cookie."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _account_page(request, language_form=form)
    language = form.cleaned_data["language"]
    user_set_language(user=request.user, language=language)
    translation.activate(language)
    messages.success(request, _("Language saved."))
    return _remember_language(redirect("accounts:account"), language)


def _remember_language(response, language):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_POST
def set_language(request):
    """Django's language switcher (footer), which also saves the choice of a logged-in
    person: otherwise the next login would bring the saved language back over it."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


class LoginView(auth_views.LoginView):
    """Django's login, by e-mail; the person's saved language applies from the first page."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        translation.activate(language)
        return _remember_language(response, language)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; the change and its audit row commit together."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            user_password_changed(user=form.user, by=form.user, action="user.password_changed")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a password from an e-mailed link (the invitation, or a reset), audited."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            user_password_changed(user=form.user, by=form.user, action="user.password_reset")
        return response
