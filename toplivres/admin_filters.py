from django.contrib import admin


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
