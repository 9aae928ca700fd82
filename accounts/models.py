from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

_purge = ContextVar("purge_allowed", default=False)


@contextmanager
def purge_allowed():
    """Let rows that are otherwise never deleted go (seed_demo --reset only)."""
    token = _purge.set(True)
    try:
        yield
    finally:
        _purge.reset(token)


def purge_is_allowed() -> bool:
    return _purge.get()


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
