"""Outgoing e-mail, run by django-tasks (at once, or by `manage.py db_worker`).

A task that fails logs the failure and raises again, so that the database backend records it
as FAILED; `manage.py retry_failed_emails` puts failed e-mails back in the queue. With the
immediate backend, the failure is logged and the e-mails of an operation can be sent again
from the admin (action "Send the notification e-mails again").
"""

import logging
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django_tasks import task

from accounts.selectors import active_admins
from operations.models import Notification, Reminder
from toplivres.mail import send_templated, site_link

logger = logging.getLogger(__name__)


@task()
def send_notification_email(*, notification_id: int) -> str:
    notice = (
        Notification.objects.select_related("recipient", "operation", "operation__partner")
        .filter(pk=notification_id)
        .first()
    )
    if notice is None:
        return "gone"  # its operation was deleted meanwhile: nothing to tell
    user, operation = notice.recipient, notice.operation
    extra = {}
    if notice.event == Notification.Event.REPORT_REMINDER:
        link = site_link(reverse("operations:report_new"))
    elif notice.event == Notification.Event.PAYMENT_REMINDER:
        invoice = operation.billing_documents.invoices().first()
        extra["invoice"] = invoice
        link = site_link(reverse("operations:invoice_detail", args=[invoice.pk]))
    elif user.is_admin:
        link = site_link(reverse("admin:operations_operation_change", args=[operation.pk]))
    else:
        page = "operations:return_detail" if operation.is_return else "operations:order_detail"
        try:
            link = site_link(reverse(page, args=[operation.pk]))
        except NoReverseMatch:  # the portal without an order page: its dashboard then
            link = site_link(reverse("operations:dashboard"))
    context = {
        "user": user,
        "operation": operation,
        "partner": operation.partner,
        "link": link,
        **extra,
    }
    try:
        send_templated(user=user, template=notice.event, context=context)
    except Exception:
        logger.exception(
            "E-mail %s about %s to %s failed", notice.event, operation.reference, user.email
        )
        raise
    return "sent"


@task()
def send_digest_email(*, reminder_id: int) -> str:
    """The weekly digest to every active admin, with the figures recorded on its reminder."""
    reminder = Reminder.objects.filter(pk=reminder_id).first()
    if reminder is None:
        return "gone"
    figures = dict(reminder.data)
    figures["overdue_total"] = Decimal(figures.get("overdue_total") or "0")
    context = {"figures": figures, "link": site_link(reverse("admin:index"))}
    for admin in active_admins():
        try:
            send_templated(user=admin, template="reminder_digest", context=context)
        except Exception:
            logger.exception("Weekly digest %s to %s failed", reminder.key, admin.email)
            raise
    return "sent"
