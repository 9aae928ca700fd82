import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Partner, User
from accounts.selectors import session_keys_for_user

audit_logger = logging.getLogger("toplivres.audit")

# What the audit log keeps of a secret: the fact it changed, never the value.
HIDDEN = "(hidden)"
CHANGED = "(changed)"


# -- the audit log (rule 12) --------------------------------------------------------------------


def json_safe(value):
    """A value as the audit log stores it: Decimal as str, dates as ISO 8601, models as pk."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def field_values(instance: models.Model, fields) -> dict:
    """The current values of `fields` on `instance` (a foreign key by its id)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        values[name] = getattr(instance, field.attname)
    return values


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """The fields whose value differs, as (before, after), JSON-safe. Equal values compare
    as values (Decimal("30") == Decimal("30.00")), so an unchanged field is never listed."""
    changed = [name for name in after if before.get(name) != after[name]]
    return (
        {name: json_safe(before.get(name)) for name in changed},
        {name: json_safe(after[name]) for name in changed},
    )


def audit_record(
    *,
    action: str,
    actor=None,
    obj=None,
    partner=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditEntry:
    """Write one audit row and one line on the `toplivres.audit` logger.

    Call it inside the transaction of the change it records: it opens none of its own, so the
    row commits or rolls back with the change. `partner` defaults to `obj` when `obj` is a
    partner, or to `obj.partner_id` when `obj` has one. The log line names who, what, which
    object and which partner: never the before/after values.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    partner_id = getattr(partner, "pk", partner)
    if partner_id is None and obj is not None:
        partner_id = obj.pk if isinstance(obj, Partner) else getattr(obj, "partner_id", None)
    entry = AuditEntry(
        action=action,
        actor=actor,
        actor_repr=(actor.email if actor is not None else "")[:254],
        partner_id=partner_id,
        before=json_safe(before or {}),
        after=json_safe(after or {}),
        reason=reason or "",
        ip=ip or None,
    )
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        entry.object_id = obj.pk
        entry.object_repr = str(obj)[:200]
    entry.save()
    audit_logger.info(
        "%s by %s on %s (partner %s)",
        action,
        entry.actor_repr or "system",
        f"{entry.content_type.model} #{entry.object_id}" if obj is not None else "-",
        partner_id if partner_id is not None else "-",
    )
    return entry


def _partner_of(user: User) -> Partner | None:
    return getattr(user, "partner", None) if user.is_partner else None


# -- partners ------------------------------------------------------------------------------------


def partner_lock(*, partner_id: int) -> Partner:
    """Lock a partner's row for the rest of the transaction.

    Every write that enforces a consignment rule takes this lock first, so that two requests
    for one partner run one after the other. On SQLite, select_for_update is ignored, but the
    connection opens its transactions with BEGIN IMMEDIATE, which serialises writers.

    On PostgreSQL the lock is FOR NO KEY UPDATE: it excludes every other writer of the
    partner as FOR UPDATE does, but lets another transaction insert a row that refers to the
    partner (the key-share lock of the foreign key check), such as the roll of the trailing
    twelve months, which a service that holds this lock may be waiting for.
    """
    return Partner.objects.select_for_update(no_key=True).select_related("user").get(pk=partner_id)


def user_end_sessions(*, user: User) -> int:
    keys = session_keys_for_user(user=user)
    deleted, _detail = Session.objects.filter(session_key__in=keys).delete()
    return deleted


PARTNER_DETAIL_FIELDS = (
    "store_name",
    "contact_name",
    "address",
    "postal_code",
    "city",
    "phone",
)
PARTNER_ADMIN_FIELDS = (*PARTNER_DETAIL_FIELDS, "commission_rate", "reminders_enabled")


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
    language: str | None = None,
    by: User | None = None,
) -> Partner:
    user = User(email=email, role=User.Role.PARTNER, full_name=contact_name)
    if language is not None:
        user.language = language
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
    audit_record(
        action="partner.created",
        actor=by,
        obj=partner,
        after={
            "email": user.email,
            "language": user.language,
            **field_values(partner, PARTNER_ADMIN_FIELDS),
        },
    )
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
    audit_record(
        action="partner.suspended",
        actor=by,
        obj=partner,
        before={"suspended_at": None, "is_active": True},
        after={"suspended_at": partner.suspended_at, "is_active": False},
        reason=reason,
    )
    return partner


@transaction.atomic
def partner_reactivate(*, partner: Partner, by: User, reason: str = "") -> Partner:
    """Restore a suspended partner's access. The suspension stays in the audit log: its rows
    (partner.suspended, partner.reactivated) are the partner's suspension history."""
    partner = partner_lock(partner_id=partner.pk)
    if not partner.is_suspended:
        raise ValidationError(_("This partner is not suspended."))
    before = {
        "suspended_at": partner.suspended_at,
        "suspended_by": partner.suspended_by_id,
        "suspension_reason": partner.suspension_reason,
        "is_active": False,
    }
    partner.suspended_at = None
    partner.suspended_by = None
    partner.suspension_reason = ""
    partner.save(update_fields=["suspended_at", "suspended_by", "suspension_reason", "updated_at"])
    User.objects.filter(pk=partner.user_id).update(is_active=True)
    partner.user.is_active = True
    audit_record(
        action="partner.reactivated",
        actor=by,
        obj=partner,
        before=before,
        after={
            "suspended_at": None,
            "suspended_by": None,
            "suspension_reason": "",
            "is_active": True,
        },
        reason=(reason or "").strip(),
    )
    return partner


# -- invitations (back office) ---------------------------------------------------------------


@transaction.atomic
def partner_invite(*, partner: Partner, by: User | None = None) -> None:
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
    audit_record(
        action="partner.invited", actor=by, obj=partner, after={"email": partner.user.email}
    )

    def enqueue():
        from accounts.tasks import send_invitation_email

        send_invitation_email.enqueue(user_id=user_id)

    transaction.on_commit(enqueue, robust=True)


@transaction.atomic
def partner_onboard(
    *, email: str, store_name: str, language: str = "fr", by: User | None = None, **details
) -> Partner:
    """Create a partner without a password (partner_create) and e-mail it an invitation."""
    partner = partner_create(
        email=email, store_name=store_name, language=language, by=by, **details
    )
    partner_invite(partner=partner, by=by)
    return partner


def _partner_write(*, partner: Partner, by: User | None, action: str, fields: dict) -> Partner:
    """Lock, check, write only the columns whose value changes, and audit them (one row).
    Nothing changed: nothing written, no row."""
    current = partner_lock(partner_id=partner.pk)
    before = field_values(current, fields)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    old, new = changes(before, field_values(current, fields))
    if not new:
        return current
    current.save(update_fields=[*new, "updated_at"])
    audit_record(action=action, actor=by, obj=current, before=old, after=new)
    return current


@transaction.atomic
def partner_update(*, partner: Partner, by: User, **fields) -> Partner:
    """An admin edits a partner's store details, commission rate or reminders switch. Only
    the changed columns are written: a suspension saved meanwhile is never overwritten by an
    older copy."""
    unknown = set(fields) - set(PARTNER_ADMIN_FIELDS)
    if unknown:
        raise ValueError(f"Not editable partner fields: {', '.join(sorted(unknown))}")
    return _partner_write(partner=partner, by=by, action="partner.updated", fields=fields)


@transaction.atomic
def partner_update_details(*, partner: Partner, by: User, **details) -> Partner:
    """A partner edits its store details. Only these columns are written: a suspension or a
    new commission saved meanwhile by an admin is never overwritten by an older copy."""
    unknown = set(details) - set(PARTNER_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not store details: {', '.join(sorted(unknown))}")
    if by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can edit its store details."))
    return _partner_write(partner=partner, by=by, action="partner.details_updated", fields=details)


# -- users -----------------------------------------------------------------------------------


@transaction.atomic
def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose one of the offered languages."))
    stored = User.objects.select_for_update().only("language").get(pk=user.pk)
    user.language = language
    if stored.language == language:
        return
    User.objects.filter(pk=user.pk).update(language=language)
    audit_record(
        action="user.language_changed",
        actor=user,
        obj=user,
        partner=_partner_of(user),
        before={"language": stored.language},
        after={"language": language},
    )


USER_ADMIN_FIELDS = ("email", "full_name", "language", "is_active", "is_staff", "is_superuser")
USER_ADMIN_RELATIONS = ("groups", "user_permissions")


def _relation_names(user: User, name: str) -> list[str]:
    if name == "groups":
        return sorted(user.groups.values_list("name", flat=True))
    return sorted(user.user_permissions.values_list("codename", flat=True))


@transaction.atomic
def user_create(*, user: User, by: User) -> User:
    """Save a new member of the publisher's team (built and validated by the admin's form)."""
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        action="user.created",
        actor=by,
        obj=user,
        after={
            **field_values(user, ("email", "full_name", "language", "role")),
            "password": CHANGED if user.has_usable_password() else "",
        },
    )
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields) -> User:
    """An admin edits a user: only the changed columns are written, in one audit row.
    `groups` and `user_permissions` take lists of Group / Permission."""
    unknown = set(fields) - {*USER_ADMIN_FIELDS, *USER_ADMIN_RELATIONS}
    if unknown:
        raise ValueError(f"Not editable user fields: {', '.join(sorted(unknown))}")
    current = User.objects.select_for_update().get(pk=user.pk)
    columns = {name: value for name, value in fields.items() if name in USER_ADMIN_FIELDS}
    relations = {name: value for name, value in fields.items() if name in USER_ADMIN_RELATIONS}
    before = field_values(current, columns)
    before.update({name: _relation_names(current, name) for name in relations})
    for name, value in columns.items():
        setattr(current, name, value)
    current.full_clean(exclude=["password"])
    old, new = changes(before, field_values(current, columns))
    if new:
        current.save(update_fields=list(new))
    for name, values in relations.items():
        getattr(current, name).set(values)
        now = _relation_names(current, name)
        if now != before[name]:
            old[name], new[name] = before[name], now
    if new:
        audit_record(
            action="user.updated",
            actor=by,
            obj=current,
            partner=_partner_of(current),
            before=old,
            after=new,
        )
    return current


@transaction.atomic
def user_password_changed(*, user: User, by: User, action: str = "user.updated") -> AuditEntry:
    """Record that `by` set `user`'s password: the fact only, never the password or its hash.
    `action`: user.updated (by an admin), user.password_changed (by the user, logged in),
    user.password_reset (by the user, from an e-mailed link)."""
    return audit_record(
        action=action,
        actor=by,
        obj=user,
        partner=_partner_of(user),
        before={"password": HIDDEN},
        after={"password": CHANGED},
    )


# -- logins --------------------------------------------------------------------------------------


def client_ip(request) -> str | None:
    address = (request.META.get("REMOTE_ADDR") or "") if request is not None else ""
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def login_succeeded(*, user: User, request=None) -> AuditEntry:
    return audit_record(
        action="login.succeeded",
        actor=user,
        obj=user,
        partner=_partner_of(user),
        ip=client_ip(request),
    )


def login_failed(*, email: str, request=None) -> AuditEntry:
    """A refused login: the e-mail typed (lower-cased, cut to 254 characters), never the
    password. When it names an account, the row is filed under that account."""
    email = (email or "").strip().lower()[:254]
    user = User.objects.filter(email__iexact=email).first() if email else None
    return audit_record(
        action="login.failed",
        obj=user,
        partner=_partner_of(user) if user is not None else None,
        after={"email": email},
        ip=client_ip(request),
    )


def logged_out(*, user: User, request=None) -> AuditEntry:
    return audit_record(
        action="logout", actor=user, obj=user, partner=_partner_of(user), ip=client_ip(request)
    )
