"""Returns of unsold copies (rule 10): every write, following the services' recipe.

A return is opened by the partner (`requested`) or by an admin (`recalled`); its copies are
then reserved in the partner's stock balance, so that neither a sales report nor another
return can take them. The partner ships the parcel; an admin receives it and enters, per
line, the copies received and those damaged. Only the copies received leave the stock:
the line's signed quantity becomes -received (the ledger's rule "stock = sum of the signed
quantities that count" stays exact), the copies first listed stay in `Item.requested`, and
a shortfall stays the partner's stock.

Lock order as everywhere: the partner's row first, then the reference counter.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.services import partner_lock
from catalog.models import Book
from operations.balances import balance_reserve
from operations.models import Item, Kind, Operation, Status, StockBalance
from operations.services import (
    Line,
    _create_operation,
    _notify,
    _require_admin,
    _transition,
    transition_refusal,
)

__all__ = [
    "Receipt",
    "return_bulk_recall",
    "return_cancel",
    "return_receive",
    "return_recall",
    "return_refuse",
    "return_request",
    "return_ship",
]


@dataclass(frozen=True)
class Receipt:
    """What an admin found in the parcel for one line: copies received, of them damaged."""

    book_id: int
    received: int
    damaged: int = 0


def _open_return(*, partner: Partner, status: str, lines: list[Line], by: User, **notes):
    ret = _create_operation(
        partner=partner, kind=Kind.RETURN, status=status, lines=lines, by=by, **notes
    )
    # Checked by Operation.clean() under the lock: held minus reserved covers every line.
    balance_reserve(operation=ret, sign=+1)
    return ret


@transaction.atomic
def return_request(*, partner: Partner, lines: list[Line], by: User, note: str = "") -> Operation:
    """The partner asks to send unsold copies back; they are reserved from now on."""
    if by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can request a return."))
    ret = _open_return(
        partner=partner_lock(partner_id=partner.pk),
        status=Status.REQUESTED,
        lines=lines,
        by=by,
        note=note,
    )
    _notify("return_requested", ret)
    return ret


@transaction.atomic
def return_recall(*, partner: Partner, lines: list[Line], by: User, reason: str = "") -> Operation:
    """An admin asks the partner to send copies back (a retired edition, a slow title)."""
    _require_admin(by)
    ret = _open_return(
        partner=partner_lock(partner_id=partner.pk),
        status=Status.RECALLED,
        lines=lines,
        by=by,
        note="",
        admin_note=reason,
    )
    _notify("return_recalled", ret)
    return ret


@dataclass(frozen=True)
class BulkRecall:
    recalled: list[Operation]
    skipped: list[tuple[Partner, str]]  # partners left out, and why


def return_bulk_recall(*, book: Book, by: User, reason: str = "") -> BulkRecall:
    """Recall every copy of `book` that partners hold and no open return reserves.

    One transaction per partner (each under its own lock), so that a partner refused (e.g.
    suspended) does not stop the others; a partner whose copies went meanwhile is skipped.
    """
    _require_admin(by)
    holders = (
        StockBalance.objects.held()
        .filter(book=book)
        .select_related("partner")
        .order_by("partner_id")
    )
    recalled, skipped = [], []
    for balance in holders:
        partner = balance.partner
        with transaction.atomic():
            locked = partner_lock(partner_id=partner.pk)
            current = StockBalance.objects.get(pk=balance.pk)
            available = current.stock.free
            if available <= 0:
                skipped.append((partner, _("every copy is already in an open return")))
                continue
            if locked.is_suspended:
                skipped.append((partner, _("the account is suspended")))
                continue
            try:
                recalled.append(
                    return_recall(
                        partner=locked,
                        lines=[Line(book_id=book.pk, copies=available)],
                        by=by,
                        reason=reason,
                    )
                )
            except ValidationError as error:
                skipped.append((partner, " ".join(error.messages)))
    return BulkRecall(recalled=recalled, skipped=skipped)


@transaction.atomic
def return_ship(*, ret: Operation, by: User, carrier_reference: str = "") -> Operation:
    """The partner confirms that the parcel has left; the copies stay reserved."""
    if by.pk != ret.partner.user_id:
        raise ValidationError(_("Only the partner itself can ship its return."))
    carrier_reference = (carrier_reference or "").strip()
    extra = {"carrier_reference": carrier_reference} if carrier_reference else None
    ret = _transition(operation=ret, to=Status.SHIPPED, by=by, extra=extra)
    _notify("return_shipped", ret)
    return ret


@transaction.atomic
def return_cancel(*, ret: Operation, by: User) -> Operation:
    """Whoever opened the return withdraws it before it ships; its copies are freed."""
    partner = partner_lock(partner_id=ret.partner_id)
    current = Operation.objects.get(pk=ret.pk)
    if current.status == Status.RECALLED:
        _require_admin(by)
    elif current.status == Status.REQUESTED and by.pk != partner.user_id:
        raise ValidationError(_("Only the partner itself can cancel the return it requested."))
    _release(current)
    return _transition(operation=current, to=Status.CANCELLED, by=by)


@transaction.atomic
def return_refuse(*, ret: Operation, by: User, reason: str) -> Operation:
    """An admin declines a requested return, with a reason; the copies are freed."""
    _require_admin(by)
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for refusing the return."))
    partner_lock(partner_id=ret.partner_id)
    current = Operation.objects.get(pk=ret.pk)
    _release(current, to=Status.REFUSED)
    ret = _transition(operation=current, to=Status.REFUSED, by=by, reason=reason)
    _notify("return_refused", ret)
    return ret


@transaction.atomic
def return_receive(
    *,
    ret: Operation,
    by: User,
    receipts: list[Receipt],
    admin_note: str | None = None,
) -> Operation:
    """An admin checks the parcel: the copies received leave the partner's stock.

    Each line's quantity becomes -received (what counts from now on), `requested` keeps the
    copies listed, `damaged` records the damage. A shortfall stays the partner's stock.
    """
    _require_admin(by)
    partner_lock(partner_id=ret.partner_id)
    current = Operation.objects.get(pk=ret.pk)
    items = {item.book_id: item for item in current.items.select_related("book")}
    found = _receipt_by_book(current, items, receipts)
    # The reservation goes first: the copies received then leave the stock, and the
    # balance never holds fewer copies than it reserves.
    _release(current, to=Status.RECEIVED)
    for book_id, item in items.items():
        receipt = found[book_id]
        Item.objects.filter(pk=item.pk).update(quantity=-receipt.received, damaged=receipt.damaged)
    ret = _transition(
        operation=current,
        to=Status.RECEIVED,
        by=by,
        admin_note=admin_note,
        audit_extra={
            "receipt": [
                {"book": r.book_id, "received": r.received, "damaged": r.damaged}
                for r in found.values()
            ]
        },
    )
    _notify("return_received", ret)
    return ret


def _receipt_by_book(ret: Operation, items: dict, receipts: list[Receipt]) -> dict:
    if not ret.can_become(Status.RECEIVED):
        raise ValidationError(transition_refusal(ret, Status.RECEIVED))
    found, errors = {}, []
    for receipt in receipts:
        item = items.get(receipt.book_id)
        if item is None or receipt.book_id in found:
            errors.append(_("The receipt names a book that is not on the return, or twice."))
            continue
        found[receipt.book_id] = receipt
        if not 0 <= receipt.received <= item.requested:
            errors.append(
                _("%(title)s: copies received must be from 0 to %(max)s.")
                % {"title": item.book.title, "max": item.requested}
            )
        elif not 0 <= receipt.damaged <= receipt.received:
            errors.append(
                _("%(title)s: damaged copies must be from 0 to the copies received.")
                % {"title": item.book.title}
            )
    for book_id, item in items.items():
        if book_id not in found:
            errors.append(_("%(title)s: enter the copies received.") % {"title": item.book.title})
    if errors:
        raise ValidationError(errors)
    return found


def _release(ret: Operation, to: str = Status.CANCELLED) -> None:
    """Free the copies of an open return (the caller holds the partner's lock)."""
    if not ret.can_become(to):
        raise ValidationError(transition_refusal(ret, to))
    balance_reserve(operation=ret, sign=-1)
