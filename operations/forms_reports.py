"""The sales report being written: a draft in the session, fed by three ways in (title by
title, ISBN scans, a till export), and the forms of the last two. Nothing here writes to the
database; `report_submit` alone records a report."""

import hashlib
import json
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.isbn import normalize_isbn
from catalog.models import Book
from operations.billing.money import amount_due_for
from operations.models import Stock, StockBalance, cents
from operations.services import Line
from operations.till_import import MAX_BYTES, TillPreview, read_table, till_preview
from toplivres.forms import OneValuePerFieldMixin


def clean_draft_lines(raw) -> dict[int, int]:
    lines: dict[int, int] = {}
    for pair in raw if isinstance(raw, list) else []:
        try:
            book_id, copies = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if 0 < book_id < 2**62 and 0 < copies <= settings.MAX_ITEM_QUANTITY:
            lines[book_id] = copies
    return lines


class ReportDraft:
    """Copies sold so far, {book_id: copies}, kept in the session per partner until the
    report is recorded. What comes back from the session is checked again, and the service
    checks the stock again under the partner's lock: it is only a draft."""

    def __init__(self, session, *, partner):
        self.session = session
        self.key = f"report_draft:{partner.pk}"
        raw = session.get(self.key)
        raw = raw if isinstance(raw, dict) else {}
        self.lines = clean_draft_lines(raw.get("lines"))
        note = raw.get("note", "")
        self.note = note[:2000] if isinstance(note, str) else ""

    def __len__(self):
        return len(self.lines)

    @property
    def copies(self) -> int:
        return sum(self.lines.values())

    def add(self, book_id: int, copies: int) -> None:
        """Add copies; the line moves to the end (the latest scan last)."""
        total = self.lines.pop(book_id, 0) + copies
        if total > 0:
            self.lines[book_id] = total

    def set(self, book_id: int, copies: int) -> None:
        if copies > 0:
            self.lines[book_id] = copies
        else:
            self.lines.pop(book_id, None)

    def digest(self) -> str:
        """A fingerprint of the lines, carried by the summary: what was reviewed is what is
        recorded, even if another tab changed the draft meanwhile."""
        text = json.dumps(sorted(self.lines.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def service_lines(self) -> list[Line]:
        return [Line(book_id=pk, copies=n) for pk, n in self.lines.items()]

    def save(self) -> None:
        self.session[self.key] = {
            "lines": [[book_id, copies] for book_id, copies in self.lines.items()],
            "note": self.note,
        }

    def clear(self) -> None:
        self.session.pop(self.key, None)
        self.lines, self.note = {}, ""


def draft_summary(*, partner, lines: dict[int, int], rows: dict[int, dict]) -> dict:
    """What will be recorded: per line the copies sold, held, left on the shelf and the
    amount; copies, revenue at retail, commission and amount due. `rows`: stock rows of the
    lines' books (stock_rows_for_books). A line the stock no longer allows says so; the
    service refuses it again when the report is sent."""
    missing = [pk for pk in lines if pk not in rows]
    titles = dict(Book.objects.filter(pk__in=missing).values_list("pk", "title")) if missing else {}
    result = []
    for pk, sold in lines.items():
        row = rows.get(pk)
        if row is None:
            title = titles.get(pk, "")
            result.append(
                {
                    "book_id": pk,
                    "title": title,
                    "held": 0,
                    "free": 0,
                    "sold": sold,
                    "shelf": 0,
                    "price": Decimal(0),
                    "amount": Decimal("0.00"),
                    "problem": _("You hold no copies of %(title)s.") % {"title": title},
                }
            )
            continue
        free = row["free"]
        problem = None
        if sold > free:
            problem = _("You hold %(held)s for sale: you cannot report %(sold)s sold.") % {
                "held": free,
                "sold": sold,
            }
        result.append(
            {
                "book_id": pk,
                "title": row["book__title"],
                "held": row["quantity"],
                "free": free,
                "sold": sold,
                "shelf": max(free - sold, 0),
                "price": row["book__price"],
                "amount": cents(sold * row["book__price"]),
                "problem": problem,
            }
        )
    result.sort(key=lambda line: (line["title"], line["book_id"]))
    revenue = cents(sum((line["amount"] for line in result), Decimal(0)))
    # Billing: rounded per line, as the invoice will be.
    due = amount_due_for(
        [(line["sold"], line["price"]) for line in result if line["held"]],
        commission_rate=partner.commission_rate,
    )
    return {
        "lines": result,
        "copies": sum(line["sold"] for line in result),
        "revenue": revenue,
        "commission": revenue - due,
        "due": due,
        "problems": any(line["problem"] for line in result),
    }


# -- one ISBN scanned or typed: one copy sold -------------------------------------------------


class ScanForm(OneValuePerFieldMixin, forms.Form):
    isbn = forms.CharField(
        label=_("ISBN"),
        max_length=40,
        error_messages={"required": _("Scan or type an ISBN.")},
    )

    def __init__(self, *args, partner, draft: ReportDraft, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner, self.draft, self.book = partner, draft, None

    def clean_isbn(self):
        value = self.cleaned_data["isbn"]
        try:
            isbn = normalize_isbn(value)
        except ValidationError as error:
            raise forms.ValidationError(
                _("“%(value)s” is not an ISBN: %(error)s Nothing was added.")
                % {"value": value, "error": error.messages[0]}
            ) from error
        book = Book.objects.filter(isbn=isbn).only("title", "isbn").first()
        if book is None:
            raise forms.ValidationError(
                _("No book with ISBN %(isbn)s in the catalogue: nothing was added.")
                % {"isbn": isbn}
            )
        stocks = StockBalance.objects.stock_of(partner=self.partner, book_ids=[book.pk])
        stock = stocks.get(book.pk, Stock())
        sold = self.draft.lines.get(book.pk, 0)
        words = stock.refusal(
            sold + 1,
            none=_("You hold no copies of %(title)s: nothing was added."),
            reserved=_(
                "%(title)s: you hold %(held)s copies, %(reserved)s of them set aside for a "
                "return, and the report already has %(sold)s sold: nothing was added."
            ),
            short=_(
                "%(title)s: you hold %(held)s copies and the report already has %(sold)s "
                "sold: nothing was added."
            ),
        )
        if words is not None:
            raise forms.ValidationError(
                words
                % {
                    "title": book.title,
                    "held": stock.held,
                    "reserved": stock.reserved,
                    "sold": sold,
                }
            )
        self.book = book
        return isbn


# -- a till export ----------------------------------------------------------------------------


class TillImportForm(forms.Form):
    file = forms.FileField(
        label=_("Till export (CSV or Excel .xlsx)"),
        help_text=_(
            "One line per title or per sale, with an ISBN column and a copies column "
            "(e.g. “ISBN” and “Quantité”). At most 2 MB and 5,000 lines."
        ),
    )

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.preview: TillPreview | None = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)s MB: export fewer days, or save it as CSV.")
                % {"max": MAX_BYTES // (1024 * 1024)}
            )
        rows = read_table(upload.name or "", upload.read(MAX_BYTES + 1))
        self.preview = till_preview(partner=self.partner, rows=rows)
        return upload
