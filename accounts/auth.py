"""Logging in safely: what django-axes counts, the client address behind the proxy, and the
password-reset flow (queued e-mail, throttled, and a way back in after a lockout)."""

import ipaddress

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

# django-axes stores the username in a 255-character column.
AXES_USERNAME_MAX_LENGTH = 255


def normalise_login(value) -> str:
    """The one spelling of a login: e-mail login is case-insensitive, so the lockout must be
    too (`Alice@Example.com` and `alice@example.com` are the same account)."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip().lower()[:AXES_USERNAME_MAX_LENGTH]


def axes_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: the username django-axes counts failures for, on both the
    portal's and the admin's login pages."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field, credentials.get("username"))
    else:
        data = getattr(request, "POST", None) or {}
        value = data.get(field)
    return normalise_login(value)


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, read as the deployment says.

    With TRUSTED_PROXY_COUNT = 0 (no proxy) it is REMOTE_ADDR. Behind N trusted reverse
    proxies, each appends the address it received the request from to X-Forwarded-For, so the
    client is the N-th entry from the right; entries further left are typed by the client and
    never trusted. A missing or malformed header falls back to REMOTE_ADDR.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _valid_ip(forwarded[-count]) or remote


def reset_login_failures(*, email: str) -> None:
    """Forget the failed logins of an address, from every client: the owner proved control of
    the mailbox (password reset), so a stranger's lockout no longer holds."""
    from axes.utils import reset

    reset(username=normalise_login(email))


def _take_token(key: str, *, limit: int, period: int) -> bool:
    """A fixed-window counter in the cache: True while `key` stays within `limit` per
    `period` seconds."""
    if cache.add(key, 1, timeout=period):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period)
        return True
    return count <= limit


def password_reset_allowed(*, email: str, ip: str | None) -> bool:
    """At most PASSWORD_RESET_LIMIT reset e-mails per address and per client address in each
    PASSWORD_RESET_PERIOD: a script cannot flood a mailbox, whatever the answer looks like."""
    limit, period = settings.PASSWORD_RESET_LIMIT, settings.PASSWORD_RESET_PERIOD
    allowed = _take_token(f"reset:email:{normalise_login(email)}", limit=limit, period=period)
    if ip:
        allowed = _take_token(f"reset:ip:{ip}", limit=limit * 5, period=period) and allowed
    return allowed


class QueuedPasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, but the request only queues a task with the address typed: the
    look-up of accounts and the sending happen in the task (accounts.tasks), so a known and
    an unknown address take the same time to answer."""

    def save(self, request=None, **kwargs):
        email = self.cleaned_data["email"]
        if not password_reset_allowed(email=email, ip=client_ip(request) if request else None):
            return
        from accounts.tasks import send_password_reset_email

        send_password_reset_email.enqueue(email=email)


class ResetLockoutSetPasswordForm(auth_forms.SetPasswordForm):
    """Setting a password from a reset link also ends a lockout of that address."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        reset_login_failures(email=user.email)
        return user


class UserBackend(ModelBackend):
    """Django's backend, but the user of each request comes with its partner profile in the
    same query: every portal page needs both."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("partner")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
