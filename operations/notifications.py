"""What follows a change: in-app notices and e-mails.

Each function is called by a service inside its transaction, once the change is written. The
notices are written at once, so they vanish with a rollback; the e-mails are queued with
`transaction.on_commit`, so that nothing is sent for a change that did not happen, and a
failing mail server cannot undo or block the change (see operations.tasks).
"""

import logging

from django.db import transaction

from accounts.selectors import active_admins
from operations.models import Notification, Operation

logger = logging.getLogger(__name__)


def order_placed(*, operation: Operation) -> None:
    """Every active admin is told of a new order."""
    notices = [
        Notification.objects.create(
            recipient=admin, event=Notification.Event.ORDER_PLACED, operation=operation
        )
        for admin in active_admins()
    ]
    email_after_commit(notices)


def return_requested(*, operation: Operation) -> None:
    """Every active admin is told of a return requested by a partner."""
    _notify_admins(operation=operation, event=Notification.Event.RETURN_REQUESTED)


def return_shipped(*, operation: Operation) -> None:
    """Every active admin is told that a return's parcel has left: it is to receive."""
    _notify_admins(operation=operation, event=Notification.Event.RETURN_SHIPPED)


def return_recalled(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.RETURN_RECALLED)


def return_refused(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.RETURN_REFUSED)


def return_received(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.RETURN_RECEIVED)


def _notify_admins(*, operation: Operation, event: str) -> None:
    notices = [
        Notification.objects.create(recipient=admin, event=event, operation=operation)
        for admin in active_admins()
    ]
    email_after_commit(notices)


def order_approved(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.ORDER_APPROVED)


def order_delivered(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.ORDER_DELIVERED)


def order_rejected(*, operation: Operation) -> None:
    _notify_partner(operation=operation, event=Notification.Event.ORDER_REJECTED)


def _notify_partner(*, operation: Operation, event: str) -> None:
    notice = Notification.objects.create(
        recipient_id=operation.partner.user_id, event=event, operation=operation
    )
    email_after_commit([notice])


def email_after_commit(notices: list[Notification]) -> None:
    """Queue one e-mail per notice once the current transaction commits."""
    notice_ids = [notice.pk for notice in notices]
    if notice_ids:
        transaction.on_commit(lambda: enqueue_emails(notice_ids), robust=True)


def enqueue_emails(notice_ids) -> None:
    from operations.tasks import send_notification_email

    for notice_id in notice_ids:
        try:
            send_notification_email.enqueue(notification_id=notice_id)
        except Exception:
            # The change is committed: a broken queue must not turn it into an error page.
            logger.exception("Could not queue the e-mail of notification %s", notice_id)
