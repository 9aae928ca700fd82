from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
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


class TamperProofActionsMixin:
    """A changelist action posted with ids that are not ids (a tampered form) is refused
    with a message instead of failing in the query."""

    def response_action(self, request, queryset):
        pk_field = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk_field.to_python(value)
        except ValidationError:
            self.message_user(
                request, _("The selection was not understood: nothing was done."), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


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
