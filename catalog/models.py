from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.isbn import normalize_isbn


class ISBNField(models.CharField):
    """Stores the 13 digits of an ISBN; accepts hyphens, spaces and ISBN-10 on input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 13)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return normalize_isbn(value)

    def formfield(self, **kwargs):
        # Room for hyphens and spaces: the model field stores the 13 digits.
        return super().formfield(**{"max_length": 24, **kwargs})

    def get_prep_value(self, value):
        # Lookups and saves use the 13 digits when the value is an ISBN; anything else is
        # passed through (a lookup finds nothing; a save meets the length constraint).
        value = models.Field.get_prep_value(self, value)
        if value is None:
            return None
        try:
            return normalize_isbn(value)
        except ValidationError:
            return str(value)


class Series(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = pgettext_lazy("plural", "series")
        ordering = ["name"]

    def __str__(self):
        return self.name


class BookQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Book(models.Model):
    isbn = ISBNField(_("ISBN"), unique=True, help_text=_("ISBN-13; hyphens and ISBN-10 accepted."))
    title = models.CharField(_("title"), max_length=300)
    authors = models.CharField(_("authors"), max_length=300)
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="books",
        verbose_name=_("series"),
    )
    volume_number = models.PositiveSmallIntegerField(_("volume number"), null=True, blank=True)
    price = models.DecimalField(
        _("retail price (EUR)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("A retired book can no longer be ordered.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BookQuerySet.as_manager()

    class Meta:
        verbose_name = _("book")
        verbose_name_plural = _("books")
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="book_price_positive"),
            models.CheckConstraint(condition=Exact(Length("isbn"), 13), name="book_isbn_13"),
        ]
        indexes = [
            models.Index(fields=["series", "volume_number"]),
            # Title order (the catalogue's and the stock tables'), read a page at a time.
            models.Index(fields=["title", "id"], name="book_title_order"),
        ]

    def __str__(self):
        return f"{self.title} ({self.isbn})"

    def clean(self):
        super().clean()
        if self.volume_number is not None and self.series_id is None:
            raise ValidationError(
                {"volume_number": _("A volume number only makes sense within a series.")}
            )
