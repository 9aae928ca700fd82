from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _


def empty_or_set_filter(*, field: str, title, parameter: str, empty: tuple, filled: tuple):
    """A two-choice list filter: `field` empty (`empty` = (value, label)) or set (`filled`)."""

    class EmptyOrSetFilter(admin.SimpleListFilter):
        parameter_name = parameter

        def lookups(self, request, model_admin):
            return [empty, filled]

        def queryset(self, request, queryset):
            if self.value() == empty[0]:
                return queryset.filter(**{f"{field}__isnull": True})
            if self.value() == filled[0]:
                return queryset.filter(**{f"{field}__isnull": False})
            return queryset

    EmptyOrSetFilter.title = title
    return EmptyOrSetFilter


def _pk_in_range(field, value) -> bool:
    """`value` is a valid primary key of `field`'s column (a number past the column's range
    fails inside the database driver, e.g. SQLite's OverflowError)."""
    try:
        pk = field.to_python(value)
    except ValidationError:
        return False
    if isinstance(pk, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (-(2**63) if low is None else low) <= pk <= (2**63 - 1 if high is None else high)
    return True


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks up the posted value to show it again: "abc" or a
    huge number fails in that query. Values that cannot be a key are dropped; the form
    field says why it refused them."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.pk
        value = [v for v in value if v in (None, "") or _pk_in_range(target, v)]
        return super().optgroups(name, value, attr)


class SafeKeysFieldMixin:
    """A model choice field that refuses a key its column cannot hold ("abc", NUL, a number
    past 64 bits) as an invalid choice, before the query that would fail on it (SQLite's
    OverflowError on ``pk__in``)."""

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        meta = self.queryset.model._meta
        target = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        for item in values:
            if item in self.empty_values:
                continue
            if not _pk_in_range(target, item):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(item)[:50]},
                )
        return super().clean(value)


_SAFE_CLASSES: dict[type, type] = {}


def _with_safe_keys(formfield):
    """The same field, its class given SafeKeysFieldMixin (one subclass per field class)."""
    if isinstance(formfield, forms.ModelChoiceField) and not isinstance(
        formfield, SafeKeysFieldMixin
    ):
        cls = type(formfield)
        if cls not in _SAFE_CLASSES:
            _SAFE_CLASSES[cls] = type(f"Safe{cls.__name__}", (SafeKeysFieldMixin, cls), {})
        formfield.__class__ = _SAFE_CLASSES[cls]
    return formfield


class TamperProofActionsMixin:
    """Tampered input gets the admin's own answers instead of a server error: a changelist
    action posted with ids that are not ids is refused with a message; a date filter past
    year 9999 sends back to the list; an autocomplete field posted with garbage re-renders
    with its error."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return _with_safe_keys(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _with_safe_keys(super().formfield_for_manytomany(db_field, request, **kwargs))

    def response_action(self, request, queryset):
        pk_field = self.model._meta.pk
        values = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(_pk_in_range(pk_field, value) for value in values):
            self.message_user(
                request, _("The selection was not understood: nothing was done."), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request):
        # A date drill-down past year 9999 (?created_at__year=9999, or a huge year) fails
        # while the changelist computes its dates: the admin's own answer to a bad filter
        # (back to the list with "?e=1") instead of a server error.
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class ServiceActionsMixin:
    """Admin actions that run a service on each selected row: a refused row gets its own
    error message and does not stop the others; the rows done are counted in one message."""

    def refusal_message(self, obj, error: ValidationError) -> str:
        """The service's message, naming the row when the message does not already."""
        text = " ".join(error.messages)
        if str(obj) in text:
            return text
        return _("%(object)s: %(error)s") % {"object": obj, "error": text}

    def apply_to_each(self, request, queryset, service, done_message) -> int:
        done = 0
        for obj in queryset.select_related(*self.list_select_related):
            try:
                service(obj)
            except ValidationError as error:
                self.message_user(request, self.refusal_message(obj, error), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done))
        return done


def harden_admin_site(site) -> None:
    """Give every ModelAdmin of `site`, third-party ones included (auth groups, axes, the
    task queue), the tamper-proof behaviour above."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, TamperProofActionsMixin):
            continue
        cls = type(model_admin)
        hardened = type(
            cls.__name__, (TamperProofActionsMixin, cls), {"__module__": cls.__module__}
        )
        site.unregister(model)
        site.register(model, hardened)
