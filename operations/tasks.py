"""Outgoing e-mail, run by django-tasks (at once, or by `manage.py db_worker`).

A task that fails logs the failure and raises again, so that the database backend records it
as FAILED; `manage.py retry_failed_emails` puts failed e-mails back in the queue. With the
immediate backend, the failure is logged and the e-mails of an operation can be sent again
from the admin (action "Send the notification e-mails again").
"""

import logging

from django.urls import NoReverseMatch, reverse
from django_tasks import task

from operations.models import Notification
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
    if user.is_admin:
        link = site_link(reverse("admin:operations_operation_change", args=[operation.pk]))
    else:
        try:
            link = site_link(reverse("operations:order_detail", args=[operation.pk]))
        except NoReverseMatch:  # the portal without an order page: its dashboard then
            link = site_link(reverse("operations:dashboard"))
    context = {"user": user, "operation": operation, "partner": operation.partner, "link": link}
    try:
        send_templated(user=user, template=notice.event, context=context)
    except Exception:
        logger.exception(
            "E-mail %s about %s to %s failed", notice.event, operation.reference, user.email
        )
        raise
    return "sent"
