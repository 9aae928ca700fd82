"""Every change to an operation writes one audit row, in the same transaction, with who, what,
before and after; a refused change writes none. Deletes that would rewrite stock are refused
from every way in, the shell included."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from accounts.models import AuditEntry
from catalog.tests.factories import BookFactory
from operations.models import Item, LedgerProtected, Notification, Operation
from operations.services import (
    notification_mark_read,
    notification_mark_unread,
    operation_delete,
    operation_set_admin_note,
    order_approve,
    order_cancel,
    order_deliver,
    order_reject,
    report_void,
)
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    return BookFactory()


def rows(obj):
    # The content type too: an invoice may share its id with the operation.
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj),
            object_id=obj.pk,
            action__contains=".",
        ).order_by("pk")
    )


def test_each_step_of_an_order_is_audited_once_with_before_and_after(partner, admin_user, book):
    order = place_order(partner, (book, 2), note="Pour Noël")
    order_approve(order=order, by=admin_user, admin_note="ok")
    order_deliver(order=order, by=admin_user)
    placed, approved, delivered = rows(order)
    assert (placed.action, placed.actor_id, placed.partner_id) == (
        "order.pending",
        partner.user_id,
        partner.pk,
    )
    assert placed.after["lines"] == [
        {"book": book.pk, "quantity": 2, "unit_price": str(book.price)}
    ]
    assert placed.after["partner_note"] == "Pour Noël"
    assert approved.action == "order.approved" and approved.actor_id == admin_user.pk
    assert approved.before == {"status": "pending", "admin_note": ""}
    assert approved.after == {"status": "approved", "admin_note": "ok"}
    assert delivered.before == {"status": "approved"}
    assert delivered.after == {"status": "delivered", "counted_seq": 1}


def test_reject_and_void_keep_their_reason(partner, admin_user, book):
    delivered_order(partner, (book, 3), admin=admin_user)
    report = submit_report(partner, (book, 1))
    report_void(report=report, by=admin_user, reason="Saisie en double")
    recorded, voided = rows(report)
    assert recorded.action == "report.recorded"
    assert voided.action == "report.voided" and voided.reason == "Saisie en double"
    assert voided.after == {"status": "voided", "uncounted_seq": 3}
    submit_report(partner)  # the voided report no longer counts for rule 2
    order = place_order(partner, (book, 1))
    order_reject(order=order, by=admin_user, reason="Rupture")
    assert rows(order)[-1].reason == "Rupture"


def test_a_refused_step_writes_no_audit_row(partner, admin_user, book):
    order = place_order(partner, (book, 1))
    order_approve(order=order, by=admin_user)
    count = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        order_cancel(order=order, by=partner.user)  # approved: no longer cancellable
    with pytest.raises(ValidationError):
        order_reject(order=order, by=admin_user, reason="  ")
    with pytest.raises(ValidationError):
        order_approve(order=order, by=partner.user)
    assert AuditEntry.objects.count() == count


def test_the_admin_note_goes_through_its_service_and_is_audited(partner, admin_user, book):
    order = place_order(partner, (book, 1))
    operation_set_admin_note(operation=order, by=admin_user, note="  Appeler avant  ")
    operation_set_admin_note(operation=order, by=admin_user, note="Appeler avant")  # unchanged
    order.refresh_from_db()
    assert order.admin_note == "Appeler avant"
    [entry] = AuditEntry.objects.filter(action="operation.admin_note_changed")
    assert entry.after == {"admin_note": "Appeler avant"}
    with pytest.raises(ValidationError):
        operation_set_admin_note(operation=order, by=partner.user, note="mine")


def test_a_shell_delete_of_a_delivered_order_is_refused(partner, admin_user, book):
    order = delivered_order(partner, (book, 2), admin=admin_user)
    with pytest.raises(LedgerProtected):
        Operation.objects.get(pk=order.pk).delete()
    with pytest.raises(LedgerProtected):
        Operation.objects.filter(partner=partner).delete()
    with pytest.raises(LedgerProtected):
        Item.objects.filter(operation=order).delete()
    with pytest.raises(LedgerProtected):
        Item.objects.get(operation=order).delete()
    assert Item.objects.filter(operation=order).count() == 1


def test_deleting_an_order_that_never_counted_is_audited_with_its_reference(
    partner, admin_user, book
):
    order = place_order(partner, (book, 1))
    order_cancel(order=order, by=partner.user)
    operation_delete(operation=order, by=admin_user)
    assert not Operation.objects.filter(pk=order.pk).exists()
    entry = AuditEntry.objects.get(action="operation.deleted")
    assert entry.object_repr == order.reference
    assert entry.before["lines"][0]["quantity"] == 1


def test_notices_are_read_and_unread_through_the_services(partner, admin_user, book):
    place_order(partner, (book, 1))
    notice = Notification.objects.get(recipient=admin_user)
    assert notification_mark_read(user=partner.user, ids=[notice.pk]) == 0  # not its own
    assert notification_mark_read(user=admin_user, ids=[notice.pk]) == 1
    assert notification_mark_unread(user=partner.user, ids=[notice.pk]) == 0
    assert notification_mark_unread(user=admin_user, ids=[notice.pk]) == 1
    notice.refresh_from_db()
    assert notice.read_at is None
