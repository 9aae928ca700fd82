"""Reminders that go by themselves (`manage.py send_reminders`, run daily).

- Report your sales: a partner holding a delivery `REPORT_REMINDER_DAYS` days with no
  recorded report since (rule 2's own query) is reminded, then again every that many days.
- Pay: a partner with an overdue invoice is reminded at 1, 15 and 30 days overdue.
- A weekly digest for the admins (once per ISO week): what waits for them.

Each reminder has a key that names it once and for all. The `Reminder` row is inserted
before anything is sent, in the transaction that writes the partner's notice and queues the
e-mail after commit; the key is unique, so a second run, or two runs at once, send nothing
twice (the second insert waits for the first transaction, then fails and is skipped).
A run that was missed does not send the reminders it skipped: only the latest step due.
Partners whose reminders are switched off (`Partner.reminders_enabled`) get none; a
suspended partner gets no report reminder (it cannot report).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from operations import clock
from operations.analytics import order_desk
from operations.billing.models import Invoice, InvoiceStatus
from operations.models import Notification, Operation, Reminder
from operations.notifications import email_after_commit

OVERDUE_STEPS = (1, 15, 30)  # days past the due date


@dataclass(frozen=True)
class DueReminder:
    key: str
    kind: str
    partner: object = None
    operation: Operation | None = None
    invoice: Invoice | None = None
    step: int = 0
    data: dict = field(default_factory=dict)

    def describe(self) -> str:
        who = self.partner.store_name if self.partner is not None else "admins"
        return f"{self.key} ({who})"


def overdue_invoices(*, today: date):
    """Invoices overdue and unpaid at `today`: billing's own definition, nothing added."""
    return Invoice.objects.with_status(InvoiceStatus.OVERDUE, today=today)


def overdue_total(*, today: date) -> tuple[int, Decimal]:
    """How many invoices are overdue and what is left to pay of them (one query)."""
    totals = overdue_invoices(today=today).aggregate(count=Count("pk"), total=Sum("open_amount"))
    return totals["count"], totals["total"] or Decimal("0.00")


def _report_reminders(*, today: date) -> list[DueReminder]:
    every = settings.REPORT_REMINDER_DAYS
    deliveries = (
        Operation.objects.deliveries_awaiting_report()
        .filter(partner__reminders_enabled=True, partner__suspended_at__isnull=True)
        .select_related("partner__user")
        .order_by("partner_id", "-counted_seq")
    )
    due, seen = [], set()
    for delivery in deliveries:
        if delivery.partner_id in seen:
            continue  # the partner's latest delivery speaks for it
        seen.add(delivery.partner_id)
        days = (today - timezone.localdate(delivery.delivered_at)).days
        step = days // every
        if step < 1:
            continue
        due.append(
            DueReminder(
                key=f"report:{delivery.partner_id}:{delivery.reference}:{step}",
                kind=Reminder.Kind.REPORT,
                partner=delivery.partner,
                operation=delivery,
                step=step,
                data={"days": days},
            )
        )
    return due


def _overdue_reminders(*, today: date) -> list[DueReminder]:
    invoices = (
        overdue_invoices(today=today)
        .filter(partner__reminders_enabled=True)
        .select_related("partner__user", "report")
        .order_by("partner_id", "due_date", "pk")
    )
    due = []
    for invoice in invoices:
        days = (today - invoice.due_date).days
        reached = [step for step in OVERDUE_STEPS if days >= step]
        if not reached:
            continue
        due.append(
            DueReminder(
                key=f"overdue:{invoice.number}:{reached[-1]}",
                kind=Reminder.Kind.OVERDUE,
                partner=invoice.partner,
                operation=invoice.report,
                invoice=invoice,
                step=reached[-1],
                data={"days": days},
            )
        )
    return due


def digest_key(today: date) -> str:
    year, week, _day = today.isocalendar()
    return f"digest:{year}-W{week:02d}"


def digest_figures(*, today: date) -> dict:
    desk = order_desk()
    count, total = overdue_total(today=today)
    return {
        "orders_to_approve": desk.pending,
        "orders_to_deliver": desk.approved,
        "returns_to_receive": desk.returns_to_receive,
        "partners_awaiting_report": desk.awaiting_report,
        "overdue_invoices": count,
        "overdue_total": str(total),
    }


def due_reminders(*, today: date) -> list[DueReminder]:
    """Every reminder due at `today` and not sent yet."""
    due = _report_reminders(today=today) + _overdue_reminders(today=today)
    keys = [r.key for r in due] + [digest_key(today)]
    sent = set(Reminder.objects.filter(key__in=keys).values_list("key", flat=True))
    due = [r for r in due if r.key not in sent]
    if digest_key(today) not in sent:
        figures = digest_figures(today=today)
        due.append(DueReminder(key=digest_key(today), kind=Reminder.Kind.DIGEST, data=figures))
    return due


def reminder_send(*, due: DueReminder) -> Reminder | None:
    """Record the reminder, write its notice and queue its e-mail after commit; None when
    another run recorded it first."""
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                key=due.key,
                kind=due.kind,
                partner=due.partner,
                operation=due.operation,
                invoice=due.invoice,
                step=due.step,
                data=due.data,
                sent_at=clock.now(),
            )
            if due.kind == Reminder.Kind.DIGEST:
                transaction.on_commit(lambda: _enqueue_digest(reminder.pk), robust=True)
            else:
                event = (
                    Notification.Event.REPORT_REMINDER
                    if due.kind == Reminder.Kind.REPORT
                    else Notification.Event.PAYMENT_REMINDER
                )
                notice = Notification.objects.create(
                    recipient_id=due.partner.user_id, event=event, operation=due.operation
                )
                email_after_commit([notice])
    except IntegrityError:
        return None  # the same key, recorded by a run at the same moment
    return reminder


def _enqueue_digest(reminder_id: int) -> None:
    from operations.tasks import send_digest_email

    send_digest_email.enqueue(reminder_id=reminder_id)


@dataclass
class RunSummary:
    sent: list[Reminder] = field(default_factory=list)
    due: list[DueReminder] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.sent if r.kind == kind)


def reminders_send(*, today: date | None = None, dry_run: bool = False) -> RunSummary:
    """Send every reminder due; with `dry_run`, only say which."""
    today = today or timezone.localdate(clock.now())
    summary = RunSummary(due=due_reminders(today=today))
    if dry_run:
        return summary
    for due in summary.due:
        reminder = reminder_send(due=due)
        if reminder is not None:
            summary.sent.append(reminder)
    return summary


def reminder_violations():
    """`ledger_check`: each partner reminder names what it reminds of (a delivered order of
    its partner; an invoice of its partner and that invoice's report) and left its notice."""
    from django.db.models import Exists, OuterRef, Q

    from operations.ledger import Violation
    from operations.lifecycle import Kind, Status

    notice = Notification.objects.filter(
        operation=OuterRef("operation"), recipient=OuterRef("partner__user")
    )
    wrong = Reminder.objects.exclude(kind=Reminder.Kind.DIGEST).filter(
        ~Exists(notice)
        | ~Q(operation__partner=F("partner"))
        | Q(kind=Reminder.Kind.REPORT, invoice__isnull=False)
        | (
            Q(kind=Reminder.Kind.REPORT)
            & ~Q(operation__kind=Kind.ORDER, operation__status=Status.DELIVERED)
        )
        | (
            Q(kind=Reminder.Kind.OVERDUE)
            & (Q(invoice__isnull=True) | ~Q(invoice__report=F("operation")))
        )
    )
    for pk, key in wrong.values_list("pk", "key"):
        yield Violation(
            "reminder", f"reminder {pk} ({key}) does not fit its operation, invoice or notice"
        )
