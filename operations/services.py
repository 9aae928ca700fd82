"""Every write that enforces a consignment rule.

The recipe (STYLE.md): one transaction; lock the partner's row first (then the reference
counter, always in that order); re-read the state and run full_clean(); write, recording
who, when and why; side effects after commit.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.services import audit_record, partner_lock
from catalog.models import Book
from operations import clock
from operations.balances import balance_apply
from operations.billing.services import (
    billing_delete_refusal,
    credit_note_issue_for_void,
    invoice_issue_for_report,
)
from operations.lifecycle import STATES, counts_in_stock
from operations.lifecycle import transition_refusal as _refusal
from operations.models import (
    REFERENCE_PREFIXES,
    EventCounter,
    Item,
    Kind,
    Notification,
    Operation,
    ReferenceCounter,
    Status,
)
from operations.selectors import newest_report_pk


@dataclass(frozen=True)
class Line:
    """A requested line: a book and a number of copies (unsigned)."""

    book_id: int
    copies: int


def _next_reference(*, kind: str, at: datetime) -> str:
    prefix = REFERENCE_PREFIXES[kind]
    year = timezone.localtime(at).year
    try:
        with transaction.atomic():
            ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
    except IntegrityError:
        pass  # created by a concurrent transaction: the update below waits for it
    # The UPDATE locks the counter row until commit, so numbers are handed out once each.
    ReferenceCounter.objects.filter(prefix=prefix, year=year).update(last_value=F("last_value") + 1)
    value = ReferenceCounter.objects.get(prefix=prefix, year=year).last_value
    return f"{prefix}-{year}-{value:05d}"


def _last_event(partner: Partner) -> int:
    """The partner's last event number (0 before any). The caller holds the partner's lock."""
    last = EventCounter.objects.filter(partner=partner).values_list("last_seq", flat=True)
    return last.first() or 0


def _take_event(partner: Partner, seq: int) -> None:
    """Hand out number `seq`, the one after the last. The partner's lock makes numbers go out
    one at a time, in commit order; the guard refuses any other number."""
    if seq == 1:
        try:
            with transaction.atomic():
                EventCounter.objects.create(partner=partner, last_seq=1)
            return
        except IntegrityError:
            pass  # numbered meanwhile: refused below
    elif EventCounter.objects.filter(partner=partner, last_seq=seq - 1).update(last_seq=seq):
        return
    raise ValidationError(_("This operation was changed meanwhile; reload and try again."))


def _build_items(*, operation: Operation, lines: list[Line], sign: int) -> list[Item]:
    book_ids = {line.book_id for line in lines}
    books = Book.objects.in_bulk(book_ids)
    missing = book_ids - set(books)
    if missing:
        raise ValidationError(_("One of the books does not exist (any more)."))
    items = []
    for line in lines:
        book = books[line.book_id]
        items.append(
            Item(
                operation=operation,
                book=book,
                quantity=sign * int(line.copies),
                unit_price=book.price,
            )
        )
    return items


def _create_operation(
    *,
    partner: Partner,
    kind: str,
    status: str,
    lines: list[Line],
    note: str,
    by: User,
    admin_note: str = "",
) -> Operation:
    """Write a new operation for `partner`, whose row the caller has locked."""
    at = clock.now()
    counting = counts_in_stock(kind, status)
    operation = Operation(
        kind=kind,
        status=status,
        partner=partner,
        partner_note=(note or "").strip(),
        admin_note=(admin_note or "").strip(),
        created_at=at,
        created_by=by,
        counts_in_stock=counting,
        opened_at_seq=_last_event(partner),
        commission_rate=partner.commission_rate if kind == Kind.REPORT else None,
    )
    items = _build_items(operation=operation, lines=lines, sign=STATES[kind].sign)
    if kind == Kind.RETURN:
        for item in items:
            item.requested = item.copies  # kept when the receipt rewrites the quantity
    operation.set_pending_lines(items)
    if counting:
        operation.counted_seq = operation.opened_at_seq + 1
    operation.full_clean(exclude=["reference", "created_by"])
    operation.reference = _next_reference(kind=kind, at=at)
    if counting:
        _take_event(partner, operation.counted_seq)
    operation.save()
    for item in operation.lines:
        item.operation = operation
        # Line rules (bounds, one line per book) were checked by operation.full_clean();
        # field checks here, and the database constraints back both.
        item.clean_fields(exclude=["operation", "book"])
    Item.objects.bulk_create(operation.lines)
    if counting:
        balance_apply(operation=operation, sign=+1)
    audit_record(
        action=f"{kind}.{status}",
        actor=by,
        obj=operation,
        partner=partner,
        after={
            "status": status,
            "lines": [
                {"book": item.book_id, "quantity": item.quantity, "unit_price": item.unit_price}
                for item in operation.lines
            ],
            "counted_seq": operation.counted_seq,
            "partner_note": operation.partner_note,
            **({"admin_note": operation.admin_note} if operation.admin_note else {}),
        },
    )
    operation.set_pending_lines(None)
    return operation


def _transition(
    *,
    operation: Operation,
    to: str,
    by: User,
    reason: str = "",
    admin_note: str | None = None,
    extra: dict | None = None,
    audit_extra: dict | None = None,
) -> Operation:
    """Move `operation` to status `to`. `extra`: further columns to write (e.g. a carrier
    reference); `audit_extra`: further facts for the audit row only."""
    partner = partner_lock(partner_id=operation.partner_id)
    # The clock is read once the lock is held, and the state re-read under it: the caller's
    # copy may be stale.
    at = clock.now()
    current = Operation.objects.select_related("partner").get(pk=operation.pk)
    before, previous_note = current.status, current.admin_note
    if not current.can_become(to):
        raise ValidationError(transition_refusal(current, to))
    counting = counts_in_stock(current.kind, to)
    fields = {"status": to, "counts_in_stock": counting, "updated_at": at}
    if to == Status.APPROVED:
        fields.update(approved_at=at, approved_by=by)
    elif to == Status.DELIVERED:
        fields.update(delivered_at=at, delivered_by=by)
    elif to == Status.SHIPPED:
        fields.update(shipped_at=at, shipped_by=by)
    elif to == Status.RECEIVED:
        fields.update(received_at=at, received_by=by)
    else:
        fields.update(closed_at=at, closed_by=by, close_reason=(reason or "").strip())
    if admin_note is not None:
        fields["admin_note"] = admin_note.strip()
    fields.update(extra or {})
    # A stock event (counted from now, or no longer counted) takes the partner's next number:
    # the order that rule 2 and the ledger check read.
    event = None
    if counting and current.counted_seq is None:
        event = "counted_seq"
    elif not counting and current.counted_seq is not None:
        event = "uncounted_seq"
    if event:
        fields[event] = _last_event(partner) + 1
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean(exclude=["created_by", "reference"])
    if event:
        _take_event(partner, fields[event])
    # Guarded by the old status: a transition applied meanwhile makes this one a no-op.
    updated = Operation.objects.filter(pk=current.pk, status=before).update(**fields)
    if updated != 1:
        raise ValidationError(_("This operation was changed meanwhile; reload and try again."))
    if event:
        balance_apply(operation=current, sign=+1 if event == "counted_seq" else -1)
    after = {"status": to, **(extra or {}), **(audit_extra or {})}
    if event:
        after[event] = fields[event]
    if admin_note is not None and admin_note.strip() != previous_note:
        after["admin_note"] = fields["admin_note"]
    audit_record(
        action=f"{current.kind}.{to}",
        actor=by,
        obj=current,
        partner=partner,
        before={
            "status": before,
            **({"admin_note": previous_note} if "admin_note" in after else {}),
        },
        after=after,
        reason=fields.get("close_reason", ""),
    )
    return current


def _require_admin(by: User) -> None:
    if not (by.is_active and by.is_admin):
        raise ValidationError(_("Only the publisher's team can do this."))


# -- orders ------------------------------------------------------------------------------


@transaction.atomic
def order_place(
    *,
    partner: Partner,
    lines: list[Line],
    by: User,
    note: str = "",
) -> Operation:
    """A partner asks for a delivery. Rules 1, 2 and 4, under the partner's lock."""
    if by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can place its orders."))
    order = _create_operation(
        partner=partner_lock(partner_id=partner.pk),
        kind=Kind.ORDER,
        status=Status.PENDING,
        lines=lines,
        note=note,
        by=by,
    )
    _notify("order_placed", order)
    return order


@transaction.atomic
def order_cancel(*, order: Operation, by: User) -> Operation:
    """The partner withdraws its own pending order (rule 5)."""
    if by.pk != order.partner.user_id:
        raise ValidationError(_("Only the partner itself can cancel its order."))
    return _transition(operation=order, to=Status.CANCELLED, by=by)


@transaction.atomic
def order_approve(*, order: Operation, by: User, admin_note: str | None = None) -> Operation:
    _require_admin(by)
    order = _transition(operation=order, to=Status.APPROVED, by=by, admin_note=admin_note)
    _notify("order_approved", order)
    return order


@transaction.atomic
def order_deliver(*, order: Operation, by: User) -> Operation:
    """The copies reach the partner: from now on they count in its stock."""
    _require_admin(by)
    order = _transition(operation=order, to=Status.DELIVERED, by=by)
    _notify("order_delivered", order)
    return order


@transaction.atomic
def order_reject(*, order: Operation, by: User, reason: str) -> Operation:
    _require_admin(by)
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for the rejection."))
    order = _transition(operation=order, to=Status.REJECTED, by=by, reason=reason)
    _notify("order_rejected", order)
    return order


# -- sales reports ------------------------------------------------------------------------


class ReportAlreadySent(ValidationError):
    """A report was recorded since the form was shown: the form was sent twice."""

    def __init__(self, newest_pk: int):
        super().__init__(
            _(
                "This report form was already sent, or a report was recorded since you "
                "opened it: nothing was recorded twice."
            ),
            code="report_already_sent",
        )
        self.newest_pk = newest_pk


@transaction.atomic
def report_submit(
    *,
    partner: Partner,
    lines: list[Line],
    by: User,
    note: str = "",
    expected_newest_pk: int | None = None,
) -> Operation:
    """Record copies sold (rule 3, under the partner's lock). No lines: nothing sold.

    `expected_newest_pk`: the newest report when the form was shown; if another report was
    recorded since (double click, back button, second tab), ReportAlreadySent is raised.
    """
    if by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can report its sales."))
    partner = partner_lock(partner_id=partner.pk)
    if expected_newest_pk is not None:
        newest = newest_report_pk(partner=partner)
        if newest != expected_newest_pk:
            raise ReportAlreadySent(newest)
    report = _create_operation(
        partner=partner,
        kind=Kind.REPORT,
        status=Status.RECORDED,
        lines=lines,
        note=note,
        by=by,
    )
    invoice_issue_for_report(report=report)  # billing: same transaction (rule 11)
    return report


@transaction.atomic
def report_void(*, report: Operation, by: User, reason: str) -> Operation:
    """Cancel a wrong report: its copies come back into stock; the rows stay."""
    _require_admin(by)
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for voiding the report."))
    report = _transition(operation=report, to=Status.VOIDED, by=by, reason=reason)
    credit_note_issue_for_void(report=report, at=report.closed_at)  # billing: same transaction
    return report


# -- the admin note ----------------------------------------------------------------------


@transaction.atomic
def operation_set_admin_note(*, operation: Operation, by: User, note: str) -> Operation:
    """An admin writes the operation's note for the team. Only this column is written, under
    the partner's lock, so a status changed meanwhile is never overwritten."""
    _require_admin(by)
    partner = partner_lock(partner_id=operation.partner_id)
    current = Operation.objects.get(pk=operation.pk)
    note = (note or "").strip()
    if note == current.admin_note:
        return current
    before = current.admin_note
    current.admin_note = note
    current.updated_at = clock.now()
    current.full_clean(exclude=["created_by", "reference"])
    Operation.objects.filter(pk=current.pk).update(admin_note=note, updated_at=current.updated_at)
    audit_record(
        action="operation.admin_note_changed",
        actor=by,
        obj=current,
        partner=partner,
        before={"admin_note": before},
        after={"admin_note": note},
    )
    return current


# -- notifications -------------------------------------------------------------------------


def notification_mark_read(*, user: User, pk: int | None = None, ids=None) -> int:
    """Mark the user's notices read: one (`pk`), some (`ids`) or all. Returns how many.
    Only the reader's own notices are touched."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        notices = notices.filter(pk=pk)
    if ids is not None:
        notices = notices.filter(pk__in=ids)
    return notices.update(read_at=timezone.now())


def notification_mark_unread(*, user: User, ids) -> int:
    """Mark some of the user's notices unread again. Returns how many changed."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=False, pk__in=ids)
    return notices.update(read_at=None)


# -- deletion (rule 6) ----------------------------------------------------------------------


def operation_delete_refusal(operation: Operation) -> str | None:
    """Why this operation cannot be hard-deleted, or None if it can."""
    if refusal := billing_delete_refusal(operation):  # billing: invoices are kept
        return refusal
    if operation.counts_in_stock:
        return _(
            "%(ref)s cannot be deleted: it counts in the stock (copies delivered or sold). "
            "Reject or void it instead; its history is kept."
        ) % {"ref": operation.reference}
    if operation.is_open_return:
        # Its copies are reserved in the partner's balance: deleting the rows would leave
        # them reserved for nothing.
        return _(
            "%(ref)s cannot be deleted: it is an open return and its copies are set aside. "
            "Cancel or refuse it instead."
        ) % {"ref": operation.reference}
    return None


@transaction.atomic
def operation_delete(*, operation: Operation, by: User) -> None:
    """Remove an operation that never counted in stock. The audit log keeps its reference,
    so the reference numbers stay accounted for."""
    _require_admin(by)
    partner = partner_lock(partner_id=operation.partner_id)
    current = Operation.objects.get(pk=operation.pk)
    refusal = operation_delete_refusal(current)
    if refusal:
        raise ValidationError(refusal)
    audit_record(
        action="operation.deleted",
        actor=by,
        obj=current,
        partner=partner,
        before={
            "kind": current.kind,
            "status": current.status,
            "reference": current.reference,
            "lines": list(current.items.values("book_id", "quantity", "unit_price")),
        },
    )
    current.delete()


# -- side effects -----------------------------------------------------------------------------


def _notify(event: str, operation: Operation) -> None:
    """Tell the people concerned. Runs inside the transaction: a notifier writes its notices
    now (they vanish with a rollback) and sends mail with transaction.on_commit."""
    from operations import notifications

    getattr(notifications, event)(operation=operation)


def transition_refusal(operation: Operation, to: str) -> str:
    """Why `operation` cannot move to status `to`, in plain words (from the state table)."""
    return _refusal(
        kind=operation.kind,
        reference=operation.reference,
        status_label=operation.get_status_display(),
        to=to,
    )
