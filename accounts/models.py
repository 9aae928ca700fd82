from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def default_commission_rate() -> Decimal:
    return settings.DEFAULT_COMMISSION_RATE


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # E-mail login is case-insensitive.
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.PARTNER)
        extra_fields.setdefault("is_staff", extra_fields["role"] == User.Role.ADMIN)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMIN)
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def admins(self):
        return self.filter(role=User.Role.ADMIN)

    def partners(self):
        return self.filter(role=User.Role.PARTNER)


class User(AbstractUser):
    """A person who logs in with an e-mail address: an admin or a partner."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        PARTNER = "partner", _("Partner")

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.PARTNER)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="fr",
        help_text=_("Language of the e-mails this person receives."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # Partners never reach the Django admin.
            models.CheckConstraint(
                condition=models.Q(role="admin") | models.Q(is_staff=False, is_superuser=False),
                name="user_partner_not_staff",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.role == self.Role.PARTNER and (self.is_staff or self.is_superuser):
            raise ValidationError(_("A partner cannot be staff or a superuser."))

    def save(self, *args, **kwargs):
        # Stored lower-case so that the unique constraint and lookups agree.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_partner(self) -> bool:
        return self.role == self.Role.PARTNER


class Partner(models.Model):
    """A bookstore (or café, association stand…) holding the publisher's books on consignment."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partner",
        verbose_name=_("user"),
    )
    store_name = models.CharField(_("store name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    commission_rate = models.DecimalField(
        _("commission rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=default_commission_rate,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The bookstore's discount on the retail price, in percent."),
    )
    reminders_enabled = models.BooleanField(
        _("send reminders"),
        default=True,
        help_text=_(
            "Reminders to report sales and to pay overdue invoices, by e-mail and on the dashboard."
        ),
    )
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suspended by"),
    )
    suspension_reason = models.TextField(_("suspension reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["store_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0, commission_rate__lte=100),
                name="partner_commission_rate_0_100",
            ),
        ]

    def __str__(self):
        return self.store_name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def commission_fraction(self) -> Decimal:
        return self.commission_rate / Decimal(100)


# -- the append-only audit log (rule 12) -------------------------------------------------------


class AppendOnlyError(Exception):
    """A write that would change or remove a row of an append-only table."""


_purge_allowed: ContextVar[bool] = ContextVar("purge_allowed", default=False)


@contextmanager
def purge_allowed() -> Iterator[None]:
    """Let append-only rows be deleted inside this block, and only there.

    The one legitimate use is wiping a demo or test database (`seed_demo --reset`): history
    is never deleted in production.
    """
    token = _purge_allowed.set(True)
    try:
        yield
    finally:
        _purge_allowed.reset(token)


def purge_is_allowed() -> bool:
    return _purge_allowed.get()


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Deleting a user sets `actor` to NULL through a queryset update (on_delete=SET_NULL):
        # the one change allowed, since actor_repr keeps who it was.
        if set(kwargs) == {"actor"} and kwargs["actor"] is None:
            return super().update(**kwargs)
        raise AppendOnlyError("Audit entries are never changed.")

    def delete(self):
        if not purge_is_allowed():
            raise AppendOnlyError("Audit entries are never deleted.")
        return super().delete()

    delete.queryset_only = True
    delete.alters_data = True

    def for_partner(self, partner):
        return self.filter(partner=partner)


class AuditEntry(models.Model):
    """One change, as it was made: who, when, what, on which object, before and after.

    Written by the services in the transaction of the change (accounts.services.audit_record);
    never changed, never deleted.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_repr = models.CharField(
        _("actor's e-mail"),
        max_length=254,
        blank=True,
        help_text=_("The e-mail address at the time; empty for the system."),
    )
    action = models.CharField(_("action"), max_length=60)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("object type"),
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("partner"),
    )
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["partner", "-at"], name="audit_partner_at_idx"),
            models.Index(fields=["action", "-at"], name="audit_action_at_idx"),
        ]

    def __str__(self):
        return f"{self.action} {self.object_repr}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnlyError("Audit entries are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not purge_is_allowed():
            raise AppendOnlyError("Audit entries are never deleted.")
        return super().delete(*args, **kwargs)
