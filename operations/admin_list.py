"""The operations list of the back office, flat as the ledger grows.

- The search box looks at the operation's own columns and its partner: a whole reference
  (on the unique index) or the start of one (ORD-2026), and the partner's store name or
  e-mail (the partners table, which does not grow with the history). A term that is an ISBN
  finds the operations holding that book through a semi-join on the items' book index; a
  title goes through the "book" filter, which does the same for the books whose title
  matches. The common search never joins the items: no duplicate rows, no DISTINCT.
- The date filter is a range on the indexed `created_at` (never a truncation of every date).
- The paginator counts at most `COUNT_LIMIT` rows: the list never counts the whole ledger.
"""

import contextlib
import re
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy

from accounts.models import Partner
from catalog.isbn import normalize_isbn
from catalog.models import Book
from operations.models import REFERENCE_PREFIXES, Item, Operation

COUNT_LIMIT = 10_000  # rows counted at most under the list (100 pages of 100)
RARE_LINES = 1_000  # lines of the books searched up to which those lines are read first
COMMON_COUNT_LIMIT = 500  # rows counted at most for books with more lines (5 pages)
BOOK_SEARCH_LIMIT = 200  # books matched by a title, looked up in the items
PARTNER_SEARCH_LIMIT = 200  # partners matched by a name or e-mail
_PREFIXES = "|".join(sorted(REFERENCE_PREFIXES.values()))
_FULL_REFERENCE = re.compile(rf"({_PREFIXES})-[0-9]{{4}}-[0-9]+")  # ORD-2026-00042
_REFERENCE_START = re.compile(rf"({_PREFIXES})(-[0-9-]*)?")  # ORD, ORD-2026, ORD-2026-000


class CappedCountPaginator(Paginator):
    """Counts the rows up to a limit (`COUNT_LIMIT` unless told; SELECT COUNT(*) over a LIMIT
    subquery): past it, `capped` is true and the pages stop there; the filters narrow the
    list further."""

    capped = False

    def __init__(self, *args, limit: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit

    @cached_property
    def count(self):
        limit = self.limit or COUNT_LIMIT
        # Any limit + 1 rows will do: no ORDER BY, so the database picks the cheapest.
        counted = self.object_list.order_by()[: limit + 1].count()
        self.capped = counted > limit
        return min(counted, limit)


def books_matching(term: str):
    """The ids of the books a term names: its ISBN, or titles containing it (at most
    `BOOK_SEARCH_LIMIT`)."""
    term = term.strip()
    if not term:
        return []
    with contextlib.suppress(ValidationError):
        return list(Book.objects.filter(isbn=normalize_isbn(term)).values_list("pk", flat=True))
    books = Book.objects.filter(title__icontains=term).order_by("title", "pk")
    return list(books.values_list("pk", flat=True)[:BOOK_SEARCH_LIMIT])


def holding_books(book_ids, request=None) -> Q:
    """Operations with a line of one of these books, each listed once (no join, no DISTINCT),
    by one of two plans picked from how many lines the books have (at most `RARE_LINES + 1`
    read on the items' book index):

    - a few: a semi-join, `id IN (SELECT operation_id ...)`, which starts from the book
      index and reads only those lines (a correlated EXISTS would walk every operation to
      find a rare book's few);
    - many: a correlated EXISTS, which walks the operations newest first and probes each
      one's items, stopping with the page (reading every line of common books would take
      longer as the history grows). The list then counts at most `COMMON_COUNT_LIMIT` rows,
      told to the paginator through `request`."""
    lines = Item.objects.filter(book_id__in=book_ids).order_by()
    if lines[: RARE_LINES + 1].count() <= RARE_LINES:
        return Q(pk__in=lines.values("operation_id"))
    if request is not None:
        request.operations_count_limit = COMMON_COUNT_LIMIT
    return Q(Exists(lines.filter(operation_id=OuterRef("pk"))))


def search_condition(term: str, request=None) -> Q:
    """What the search box matches: a reference from its start, a partner's store name or
    e-mail, and, when the term is an ISBN, the operations holding that book."""
    term = term.strip()
    if not term:
        return Q()
    condition = Q(pk__in=[])  # matches nothing; each part below adds to it
    upper = term.upper()
    if _FULL_REFERENCE.fullmatch(upper):
        condition |= Q(reference=upper)  # the unique index
    elif _REFERENCE_START.fullmatch(upper):
        # A prefix shared by many operations: the newest-first scan meets them at once.
        condition |= Q(reference__startswith=upper)
    partners = Partner.objects.filter(
        Q(store_name__icontains=term) | Q(user__email__icontains=term)
    ).order_by("pk")
    partner_ids = list(partners.values_list("pk", flat=True)[:PARTNER_SEARCH_LIMIT])
    if partner_ids:
        condition |= Q(partner_id__in=partner_ids)
    with contextlib.suppress(ValidationError):
        isbn = normalize_isbn(term)
        book_ids = list(Book.objects.filter(isbn=isbn).values_list("pk", flat=True))
        if book_ids:
            condition |= holding_books(book_ids, request)
    return condition


def _other_params(changelist, *own) -> list[tuple[str, str]]:
    """(name, value) of the list's other parameters, kept as hidden inputs by a filter's own
    form so that submitting it changes only its own."""
    return [
        (key, value)
        for key, values in changelist.params.items()
        if key not in own
        for value in (values if isinstance(values, list) else [values])
    ]


class PartnerPicker(AutocompleteSelect):
    """A partner field that looks partners up as the admin types (the admin's autocomplete
    over the partners' search fields) instead of listing every partner on each page: it
    renders the same with 50 partners or 5,000. A value that is not a key shows nothing
    selected (the form or the list says why)."""

    def __init__(self, attrs=None):
        super().__init__(Operation._meta.get_field("partner"), admin.site, attrs=attrs)

    def optgroups(self, name, value, attr=None):
        keys = [str(v) for v in value if str(v).isdigit() and len(str(v)) < 19]
        return super().optgroups(name, keys, attr)

    @property
    def media(self):
        # The picker's accessible name: its field's label (select2 would leave it unnamed).
        return super().media + forms.Media(js=["js/picker_label.js"])


class _PartnerPick(forms.Form):
    partner__id__exact = forms.ModelChoiceField(
        label=gettext_lazy("Partner"),
        queryset=Partner.objects.all(),
        required=False,
        widget=PartnerPicker(attrs={"id": "partner-filter-input"}),
    )


class PartnerFilter(admin.RelatedFieldListFilter):
    """The operations of one partner, picked by typing its name (see `PartnerPicker`); the
    query parameter stays `partner__id__exact`, so links to a partner's operations hold."""

    template = "admin/operations/operation/partner_filter.html"

    def field_choices(self, field, request, model_admin):
        return []  # no list of every partner: the picker looks them up

    def has_output(self):
        return True

    def choices(self, changelist):
        value = self.lookup_val[-1] if isinstance(self.lookup_val, list) else self.lookup_val
        yield {
            "form": _PartnerPick(initial={self.lookup_kwarg: value}),
            "value": value,
            "clear_query_string": changelist.get_query_string(
                remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]
            ),
            "hidden": _other_params(changelist, self.lookup_kwarg, self.lookup_kwarg_isnull),
        }


class BookFilter(admin.ListFilter):
    """Operations with a line of a given book: its ISBN or a part of its title."""

    title = gettext_lazy("book")
    parameter_name = "book"
    template = "admin/operations/operation/book_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        value = params.pop(self.parameter_name, [""])
        self.value = (value[-1] if isinstance(value, list) else value).strip()[:200]

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def choices(self, changelist):
        yield {
            "value": self.value,
            "parameter_name": self.parameter_name,
            "clear_query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "hidden": _other_params(changelist, self.parameter_name),
        }

    def queryset(self, request, queryset):
        if not self.value:
            return queryset
        return queryset.filter(holding_books(books_matching(self.value), request))


class CreatedFilter(admin.DateFieldListFilter):
    """Ranges on the indexed `created_at` (an index range scan, never a truncation of every
    date): today, the past 7 and 30 days, this month, this year, last year."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        today = timezone.make_aware(datetime.combine(timezone.localdate(), time()))
        tomorrow = today + timedelta(days=1)
        month = today.replace(day=1)
        year = today.replace(month=1, day=1)

        def since(start, end=tomorrow):
            return {self.lookup_kwarg_since: str(start), self.lookup_kwarg_until: str(end)}

        self.links = (
            (gettext_lazy("Any date"), {}),
            (gettext_lazy("Today"), since(today)),
            (gettext_lazy("Past 7 days"), since(today - timedelta(days=7))),
            (gettext_lazy("Past 30 days"), since(today - timedelta(days=30))),
            (gettext_lazy("This month"), since(month)),
            (gettext_lazy("This year"), since(year)),
            (gettext_lazy("Last year"), since(year.replace(year=year.year - 1), year)),
        )
