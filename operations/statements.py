"""The consignment statement (état de dépôt) of one partner over a period.

Per title: the copies held at the start and at the end of the period, their retail value at
the end (today's retail price, rounded once per line; the total is the sum of the lines),
and the copies delivered, sold and returned during the period, so that
held at the end = held at the start + delivered - sold - returned, title by title.

The period covers whole days in the site's time zone, `date_from` and `date_to` included.
Each operation counts from the moment it started to count in stock and stops at the moment
it stopped (a voided report): delivered orders from `delivered_at`, recorded reports from
`created_at`, received returns from `received_at`, a void at `closed_at`. The services read
these times under the partner's lock, in the order of the partner's event numbers, so they
follow the ledger's event order. A statement ending today reads what is held from the stored
balance (`StockBalance`); one ending in the past sums the items. Either way it takes a fixed
number of queries, however many titles and events.
"""

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation

from operations import clock
from operations.billing.money import round_cent
from operations.lifecycle import Kind
from operations.models import Item, StockBalance


@dataclass(frozen=True)
class StatementLine:
    book_id: int
    title: str
    isbn: str
    unit_price: Decimal  # today's retail price
    opening: int  # copies held at the start of the period
    delivered: int
    sold: int  # net of the reports voided in the period
    returned: int
    held: int  # copies held at the end of the period

    @property
    def value(self) -> Decimal:
        """Retail value of the copies held at the end, rounded once."""
        return round_cent(self.held * self.unit_price)


@dataclass(frozen=True)
class ConsignmentStatement:
    partner: object
    date_from: date
    date_to: date
    today: date
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def opening(self) -> int:
        return sum(line.opening for line in self.lines)

    @property
    def delivered(self) -> int:
        return sum(line.delivered for line in self.lines)

    @property
    def sold(self) -> int:
        return sum(line.sold for line in self.lines)

    @property
    def returned(self) -> int:
        return sum(line.returned for line in self.lines)

    @property
    def held(self) -> int:
        return sum(line.held for line in self.lines)

    @property
    def value(self) -> Decimal:
        return sum((line.value for line in self.lines), Decimal("0.00"))

    @property
    def titles_held(self) -> int:
        return sum(1 for line in self.lines if line.held)

    @property
    def filename(self) -> str:
        return (
            f"etat-de-depot-{self.partner.pk}-{self.date_from.isoformat()}"
            f"-{self.date_to.isoformat()}.pdf"
        )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _counted_at():
    """When the item's operation started to count in stock."""
    return Case(
        When(operation__kind=Kind.ORDER, then=F("operation__delivered_at")),
        When(operation__kind=Kind.REPORT, then=F("operation__created_at")),
        When(operation__kind=Kind.RETURN, then=F("operation__received_at")),
    )


def _held_at(moment: datetime) -> Q:
    """Items that count in stock at `moment` (exclusive)."""
    counted = Q(counted_at__lt=moment)
    still = Q(operation__uncounted_seq__isnull=True) | Q(operation__closed_at__gte=moment)
    return counted & still


def _sum(condition: Q, sign: int = 1):
    quantity = F("quantity") if sign > 0 else -F("quantity")
    return Coalesce(Sum(quantity, filter=condition, output_field=IntegerField()), 0)


def consignment_statement(
    *, partner, date_from: date, date_to: date, today: date | None = None
) -> ConsignmentStatement:
    """The statement of `partner` from `date_from` to `date_to` (both included)."""
    today = today or timezone.localdate(clock.now())
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    start, end = _day_start(date_from), _day_start(date_to + timedelta(days=1))
    in_period = Q(counted_at__gte=start, counted_at__lt=end)
    voided_in_period = Q(
        operation__uncounted_seq__isnull=False,
        operation__closed_at__gte=start,
        operation__closed_at__lt=end,
    )
    order, report = Q(operation__kind=Kind.ORDER), Q(operation__kind=Kind.REPORT)
    ret = Q(operation__kind=Kind.RETURN)
    rows = (
        Item.objects.filter(operation__partner=partner, operation__counted_seq__isnull=False)
        .annotate(counted_at=_counted_at())
        .values("book_id", "book__title", "book__isbn", "book__price")
        .annotate(
            opening=_sum(_held_at(start)),
            held_at_end=_sum(_held_at(end)),
            delivered=_sum(order & in_period),
            # Copies sold: those of the reports recorded in the period less those voided in it.
            sold_recorded=_sum(report & in_period, sign=-1),
            sold_voided=_sum(report & voided_in_period, sign=-1),
            returned=_sum(ret & in_period, sign=-1),
        )
        .order_by("book__title", "book_id")
    )
    rows = list(rows)
    if date_to >= today:
        # What is held now, from the stored balance the services keep in step.
        held_now = StockBalance.objects.held_by(partner=partner)
        for row in rows:
            row["held_at_end"] = held_now.get(row["book_id"], 0)
    lines = [
        StatementLine(
            book_id=row["book_id"],
            title=row["book__title"],
            isbn=row["book__isbn"],
            unit_price=row["book__price"],
            opening=row["opening"],
            delivered=row["delivered"],
            sold=row["sold_recorded"] - row["sold_voided"],
            returned=row["returned"],
            held=row["held_at_end"],
        )
        for row in rows
    ]
    lines = [
        line
        for line in lines
        if line.opening or line.held or line.delivered or line.sold or line.returned
    ]
    return ConsignmentStatement(
        partner=partner, date_from=date_from, date_to=date_to, today=today, lines=lines
    )


def statement_language(partner) -> str:
    return partner.user.language or settings.LANGUAGE_CODE


def consignment_statement_html(statement: ConsignmentStatement) -> str:
    language = statement_language(statement.partner)
    with translation.override(language):
        return render_to_string(
            "operations/consignment_statement_pdf.html",
            {
                "statement": statement,
                "language": language,
                "seller": {
                    "name": settings.SELLER_NAME,
                    "address": settings.SELLER_ADDRESS,
                    "postal_code": settings.SELLER_POSTAL_CODE,
                    "city": settings.SELLER_CITY,
                },
            },
        )


def statement_pdf(statement: ConsignmentStatement) -> bytes:
    from weasyprint import HTML  # heavy: loaded when a PDF is asked for

    html = consignment_statement_html(statement)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def consignment_statement_pdf(partner, date_from: date, date_to: date) -> bytes:
    """The PDF of `partner`'s consignment statement, in the partner's language."""
    return statement_pdf(
        consignment_statement(partner=partner, date_from=date_from, date_to=date_to)
    )


def consignment_statements_zip(partners, date_from: date, date_to: date) -> bytes:
    """One PDF per partner, in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for partner in partners:
            statement = consignment_statement(partner=partner, date_from=date_from, date_to=date_to)
            archive.writestr(statement.filename, statement_pdf(statement))
    return buffer.getvalue()
