"""Parsing and clean-up for the partner portal's forms. Nothing here writes to the database."""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from catalog.models import Book
from operations.models import Kind, Status, cents
from operations.services import Line
from toplivres.forms import OneValuePerFieldMixin


def _copies_field(*, label, required=True, min_value=0):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=settings.MAX_ITEM_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "form-control copies"}),
    )


# -- the order being written: a draft in the session ---------------------------------------


class OrderDraft:
    """The order a partner is putting together, kept in its session until placed.

    Lines are {book_id: copies} in the order they were added; a book added twice is one
    line. What comes back from the session is checked again: it is only a draft.
    """

    def __init__(self, session, *, partner):
        self.session = session
        self.key = f"order_draft:{partner.pk}"
        raw = session.get(self.key) or {}
        self.lines: dict[int, int] = {}
        for pair in raw.get("lines", []) if isinstance(raw, dict) else []:
            try:
                book_id, copies = int(pair[0]), int(pair[1])
            except (TypeError, ValueError, IndexError):
                continue
            if book_id > 0 and 0 < copies <= settings.MAX_ITEM_QUANTITY:
                self.lines[book_id] = copies
        note = raw.get("note", "") if isinstance(raw, dict) else ""
        self.note = note if isinstance(note, str) else ""

    def __len__(self):
        return len(self.lines)

    def add(self, book_id: int, copies: int) -> None:
        self.lines[book_id] = self.lines.get(book_id, 0) + copies

    def set(self, book_id: int, copies: int) -> None:
        if copies > 0:
            self.lines[book_id] = copies
        else:
            self.lines.pop(book_id, None)

    def remove(self, book_id: int) -> None:
        self.lines.pop(book_id, None)

    def keep_only(self, book_ids) -> None:
        """Drop lines whose book no longer exists."""
        self.lines = {k: v for k, v in self.lines.items() if k in book_ids}

    def save(self) -> None:
        self.session[self.key] = {
            "lines": [[book_id, copies] for book_id, copies in self.lines.items()],
            "note": self.note,
        }

    def clear(self) -> None:
        self.session.pop(self.key, None)
        self.lines, self.note = {}, ""


# A tampered book id gets the same plain answer as an unknown one, never the field's bounds
# ("Ensure this value is less than or equal to 4611686018427387904").
UNKNOWN_BOOK = _("This book is not in the catalogue.")


class AddLineForm(OneValuePerFieldMixin, forms.Form):
    """Add copies of one book to the draft."""

    book = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**62,
        error_messages={
            "required": UNKNOWN_BOOK,
            "invalid": UNKNOWN_BOOK,
            "min_value": UNKNOWN_BOOK,
            "max_value": UNKNOWN_BOOK,
        },
    )
    copies = _copies_field(label=_("Copies"), min_value=1)

    def __init__(self, *args, draft: OrderDraft, **kwargs):
        self.draft = draft
        super().__init__(*args, **kwargs)
        self.fields["copies"].initial = 1
        self.fields["copies"].required = False
        self.book_obj = None

    def clean_book(self):
        book_id = self.cleaned_data["book"]
        book = Book.objects.filter(pk=book_id).first()
        if book is None:
            raise forms.ValidationError(UNKNOWN_BOOK)
        if not book.is_active:
            raise forms.ValidationError(
                _("%(title)s is no longer available to order.") % {"title": book.title}
            )
        self.book_obj = book
        return book_id

    def clean_copies(self):
        return self.cleaned_data.get("copies") or 1

    def clean(self):
        cleaned = super().clean()
        book, copies = self.book_obj, cleaned.get("copies")
        if book is not None and copies:
            total = self.draft.lines.get(book.pk, 0) + copies
            if total > settings.MAX_ITEM_QUANTITY:
                self.add_error(
                    "copies",
                    _("%(title)s: at most %(max)s copies per line.")
                    % {"title": book.title, "max": settings.MAX_ITEM_QUANTITY},
                )
        return cleaned


class OrderLinesForm(OneValuePerFieldMixin, forms.Form):
    """The draft's lines with their quantities, and the note. 0 copies removes a line."""

    note = forms.CharField(
        label=_("Note for the publisher (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args, books: list[Book], draft: OrderDraft, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"]["note"] = draft.note
        for book in books:
            kwargs["initial"][f"copies_{book.pk}"] = draft.lines.get(book.pk)
        super().__init__(*args, **kwargs)
        self.books = books
        self.draft = draft
        for book in books:
            self.fields[f"copies_{book.pk}"] = _copies_field(
                label=_("Copies of %(title)s") % {"title": book.title}
            )

    def clean(self):
        cleaned = super().clean()
        for book in self.books:
            name = f"copies_{book.pk}"
            if cleaned.get(name) and not book.is_active:
                self.add_error(
                    name,
                    _("%(title)s is no longer available to order: remove it.")
                    % {"title": book.title},
                )
        return cleaned

    def copies_by_book(self) -> dict[int, int]:
        """Valid quantities; a line with an error keeps its draft quantity."""
        data = getattr(self, "cleaned_data", {})
        result = {}
        for book in self.books:
            value = data.get(f"copies_{book.pk}")
            result[book.pk] = value if value is not None else self.draft.lines.get(book.pk, 0)
        return result

    def service_lines(self) -> list[Line]:
        return [Line(book_id=pk, copies=n) for pk, n in self.copies_by_book().items() if n > 0]

    def rows(self) -> list[dict]:
        """One row per line for the template: book, field, copies, amount."""
        copies = self.copies_by_book()
        return [
            {
                "book": book,
                "field": self[f"copies_{book.pk}"],
                "copies": copies[book.pk],
                "amount": cents(book.price * copies[book.pk]),
            }
            for book in self.books
        ]

    def totals(self) -> dict:
        rows = self.rows()
        return {
            "titles": sum(1 for r in rows if r["copies"]),
            "copies": sum(r["copies"] for r in rows),
            "value": cents(sum((r["amount"] for r in rows), Decimal(0))),
        }


def order_lines_form(data, *, draft: OrderDraft, books_by_id: dict[int, Book]):
    books = [books_by_id[pk] for pk in draft.lines if pk in books_by_id]
    return OrderLinesForm(data, books=books, draft=draft)


# -- sales report ---------------------------------------------------------------------------


REPORT_SALT = "operations.report-form"


def report_form_token(*, partner, newest_report_pk: int) -> str:
    """What a report form remembers of the moment it was shown."""
    return signing.dumps([partner.pk, newest_report_pk], salt=REPORT_SALT)


class ReportForm(OneValuePerFieldMixin, forms.Form):
    """Per title held: copies sold, or copies still on the shelf (sold = held - shelf).

    One page of titles at a time (`stock_rows`: the titles shown, or those posted); what it
    holds is merged into the report's draft (`merge_into`). A line left blank counts as
    nothing sold; the summary shown before recording says so.
    """

    note = forms.CharField(
        label=_("Note for the publisher (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=500)
    # "book_id:copies,…": the copies sold that the page showed, so that only the lines the
    # partner changed are written into the draft (a scan in another tab is not undone).
    shown = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)
    # The summary of "nothing sold": recorded with no line, whatever the draft holds.
    nothing = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, partner, stock_rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.stock_rows = stock_rows
        for row in stock_rows:
            pk = row["book_id"]
            title = row["book__title"]
            self.fields[f"sold_{pk}"] = _copies_field(
                label=_("Copies of %(title)s sold") % {"title": title}, required=False
            )
            self.fields[f"shelf_{pk}"] = _copies_field(
                label=_("Copies of %(title)s still on the shelf") % {"title": title},
                required=False,
            )

    def clean_token(self):
        try:
            partner_pk, newest_pk = signing.loads(self.cleaned_data["token"], salt=REPORT_SALT)
        except (signing.BadSignature, TypeError, ValueError) as exc:
            raise forms.ValidationError(
                _("This form has expired. Here it is again: check your figures.")
            ) from exc
        if partner_pk != self.partner.pk or not isinstance(newest_pk, int):
            raise forms.ValidationError(
                _("This form has expired. Here it is again: check your figures.")
            )
        return newest_pk

    # Sent by the page besides the fields: the CSRF token, the button pressed, the search and
    # page of titles, and the fingerprint of the draft a summary showed.
    PAGE_KEYS = frozenset({"csrfmiddlewaretoken", "action", "q", "page", "goto", "digest"})
    LINE_KEY = re.compile(r"^(sold|shelf)_(\d{1,18})$")

    def _tampering_errors(self) -> list[str]:
        """A line for a book not held, a field the form does not know, or a field sent twice
        refuses the whole report (rule 9): nothing is dropped in silence."""
        errors, strangers = [], set()
        for name in self.data:
            if name in self.fields or name in self.PAGE_KEYS:
                if len(self.data.getlist(name)) > 1:
                    errors.append(
                        _("The form sent “%(name)s” twice: nothing was recorded.") % {"name": name}
                    )
                continue
            match = self.LINE_KEY.match(name)
            if match:
                strangers.add(int(match[2]))
            else:
                errors.append(
                    _("The form sent a field it does not know (“%(name)s”): nothing was recorded.")
                    % {"name": name[:40]}
                )
        if strangers:
            titles = dict(Book.objects.filter(pk__in=strangers).values_list("pk", "title"))
            for pk in sorted(strangers):
                errors.append(
                    _("You hold no copies of %(title)s: nothing was recorded.")
                    % {"title": titles.get(pk) or _("book #%(id)s") % {"id": pk}}
                )
        return errors

    def clean_shown(self) -> dict[int, int] | None:
        """The copies the page showed, or None when the form did not send them."""
        if "shown" not in self.data:
            return None
        shown = {}
        for pair in self.cleaned_data["shown"].split(","):
            book_id, _sep, copies = pair.partition(":")
            if book_id.isdigit() and copies.isdigit() and len(book_id + copies) < 24:
                shown[int(book_id)] = int(copies)
        return shown

    def clean(self):
        cleaned = super().clean()
        self.sold: dict[int, int] = {}
        self.entered: dict[int, int | None] = {}
        tampered = self._tampering_errors()
        if tampered:
            raise forms.ValidationError(tampered)
        for row in self.stock_rows:
            # Copies in an open return are set aside: not for sale (rule 3).
            pk, held = row["book_id"], row["free"]
            sold_name, shelf_name = f"sold_{pk}", f"shelf_{pk}"
            if sold_name in self.errors or shelf_name in self.errors:
                continue
            sold, shelf = cleaned.get(sold_name), cleaned.get(shelf_name)
            self.entered[pk] = None if sold is None and shelf is None else 0
            if shelf is not None:
                if shelf > held:
                    self.add_error(
                        shelf_name,
                        _("You hold %(held)s: the shelf cannot have more.") % {"held": held},
                    )
                    continue
                if sold is not None and sold != held - shelf:
                    self.add_error(
                        sold_name,
                        _(
                            "Sold and on the shelf disagree: of %(held)s held, %(shelf)s on "
                            "the shelf means %(sold)s sold. Fill in one of the two."
                        )
                        % {"held": held, "shelf": shelf, "sold": held - shelf},
                    )
                    continue
                sold = held - shelf
            if sold and sold > held:
                self.add_error(
                    sold_name,
                    _("You hold %(held)s: you cannot report more sold.") % {"held": held},
                )
                continue
            if sold:
                self.sold[pk] = sold
                self.entered[pk] = sold
        return cleaned

    def merge_into(self, draft) -> None:
        """Write the lines into the draft: those changed since the page was shown, or, from a
        form that does not say what it showed, those filled in. 0 sold removes a line."""
        shown = self.cleaned_data.get("shown")
        for pk, sold in self.entered.items():
            if shown is None:
                if sold is not None:
                    draft.set(pk, sold)
            elif (sold or 0) != shown.get(pk, 0):
                draft.set(pk, sold or 0)
        if "note" in self.data:
            draft.note = self.cleaned_data["note"]

    def rows(self) -> list[dict]:
        return [
            {
                **row,
                "sold_field": self[f"sold_{row['book_id']}"],
                "shelf_field": self[f"shelf_{row['book_id']}"],
            }
            for row in self.stock_rows
        ]


# -- stock ------------------------------------------------------------------------------------


class StockFilterForm(forms.Form):
    """Search and sort of the stock page; anything malformed falls back to all, by title."""

    q = forms.CharField(label=_("Title, author, series or ISBN"), required=False, max_length=200)
    o = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("title", _("Title (A to Z)")),
            ("-title", _("Title (Z to A)")),
            ("-copies", _("Most copies first")),
            ("copies", _("Fewest copies first")),
            ("-delivery", _("Latest delivery first")),
            ("delivery", _("Oldest delivery first")),
            ("-sale", _("Latest sale first")),
            ("sale", _("Oldest sale first (or never sold)")),
        ],
    )

    def values(self) -> tuple[str, str]:
        """(query, sort) to use: the valid ones, else the defaults."""
        if not self.is_valid():
            return "", "title"
        return self.cleaned_data["q"].strip(), self.cleaned_data["o"] or "title"


# -- history ----------------------------------------------------------------------------------


class HistoryFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Kind.choices, empty_label=_("Orders, reports and returns")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("Any status")
    )
    date_from = django_filters.DateFilter(
        label=_("From"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label=_("To"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
