from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.selectors import session_keys_for_user


def partner_lock(*, partner_id: int) -> Partner:
    """Lock a partner's row for the rest of the transaction.

    Every write that enforces a consignment rule takes this lock first, so that two requests
    for one partner run one after the other. On SQLite, select_for_update is ignored, but the
    connection opens its transactions with BEGIN IMMEDIATE, which serialises writers.
    """
    return Partner.objects.select_for_update().select_related("user").get(pk=partner_id)


def user_end_sessions(*, user: User) -> int:
    keys = session_keys_for_user(user=user)
    deleted, _detail = Session.objects.filter(session_key__in=keys).delete()
    return deleted


@transaction.atomic
def partner_create(
    *,
    email: str,
    store_name: str,
    contact_name: str = "",
    address: str = "",
    postal_code: str = "",
    city: str = "",
    phone: str = "",
    commission_rate=None,
    password: str | None = None,
) -> Partner:
    user = User(email=email, role=User.Role.PARTNER, full_name=contact_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    partner = Partner(
        user=user,
        store_name=store_name,
        contact_name=contact_name,
        address=address,
        postal_code=postal_code,
        city=city,
        phone=phone,
    )
    if commission_rate is not None:
        partner.commission_rate = commission_rate
    partner.full_clean()
    partner.save()
    return partner


@transaction.atomic
def partner_suspend(*, partner: Partner, by: User, reason: str) -> Partner:
    """Suspend a partner: no more logins, and every open session ends now."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"suspension_reason": _("Give a reason for the suspension.")})
    partner = partner_lock(partner_id=partner.pk)
    if partner.is_suspended:
        raise ValidationError(_("This partner is already suspended."))
    partner.suspended_at = timezone.now()
    partner.suspended_by = by
    partner.suspension_reason = reason
    partner.save(update_fields=["suspended_at", "suspended_by", "suspension_reason", "updated_at"])
    User.objects.filter(pk=partner.user_id).update(is_active=False)
    partner.user.is_active = False
    user_end_sessions(user=partner.user)
    return partner


@transaction.atomic
def partner_reactivate(*, partner: Partner, by: User) -> Partner:
    partner = partner_lock(partner_id=partner.pk)
    if not partner.is_suspended:
        raise ValidationError(_("This partner is not suspended."))
    partner.suspended_at = None
    partner.suspended_by = None
    partner.suspension_reason = ""
    partner.save(update_fields=["suspended_at", "suspended_by", "suspension_reason", "updated_at"])
    User.objects.filter(pk=partner.user_id).update(is_active=True)
    partner.user.is_active = True
    return partner


# -- invitations (back office) ---------------------------------------------------------------


def partner_invite(*, partner: Partner) -> None:
    """E-mail the partner a link to choose its password, once the transaction commits.

    The link carries Django's password-reset token: it works until the password is set (the
    token depends on the password hash) or until PASSWORD_RESET_TIMEOUT.
    """
    if partner.is_suspended or not partner.user.is_active:
        raise ValidationError(
            _("%(store)s is suspended: reactivate it before inviting it.")
            % {"store": partner.store_name}
        )
    user_id = partner.user_id

    def enqueue():
        from accounts.tasks import send_invitation_email

        send_invitation_email.enqueue(user_id=user_id)

    transaction.on_commit(enqueue, robust=True)


@transaction.atomic
def partner_onboard(*, email: str, store_name: str, language: str = "fr", **details) -> Partner:
    """Create a partner without a password (partner_create) and e-mail it an invitation."""
    partner = partner_create(email=email, store_name=store_name, **details)
    if language != partner.user.language:
        partner.user.language = language
        partner.user.full_clean(exclude=["password"])
        partner.user.save(update_fields=["language"])
    partner_invite(partner=partner)
    return partner


PARTNER_DETAIL_FIELDS = (
    "store_name",
    "contact_name",
    "address",
    "postal_code",
    "city",
    "phone",
)


@transaction.atomic
def partner_update_details(*, partner: Partner, by: User, **details) -> Partner:
    """A partner edits its store details. Only these columns are written: a suspension or a
    new commission saved meanwhile by an admin is never overwritten by an older copy."""
    unknown = set(details) - set(PARTNER_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not store details: {', '.join(sorted(unknown))}")
    if by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can edit its store details."))
    current = partner_lock(partner_id=partner.pk)
    for name, value in details.items():
        setattr(current, name, value)
    current.full_clean()
    current.save(update_fields=[*details, "updated_at"])
    return current


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose one of the offered languages."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
