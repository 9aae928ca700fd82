"""Outgoing e-mail, run by django-tasks (at once, or by `manage.py db_worker`).

A task that fails logs the failure and raises again, so that the database backend records it
as FAILED; `manage.py retry_failed_emails` puts failed e-mails back in the queue. With the
immediate backend, the failure is logged and the e-mails of an operation can be sent again
from the admin (action "Send the notification e-mails again").
"""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from accounts.models import User
from operations.models import Notification

logger = logging.getLogger(__name__)


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send(*, user: User, template: str, context: dict) -> None:
    with translation.override(user.language):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        body = render_to_string(f"emails/{template}.txt", context)
    subject = " ".join(subject.split())
    send_mail(subject, body, None, [user.email])


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
        _send(user=user, template=notice.event, context=context)
    except Exception:
        logger.exception(
            "E-mail %s about %s to %s failed", notice.event, operation.reference, user.email
        )
        raise
    return "sent"


@task()
def send_invitation_email(*, user_id: int) -> str:
    """The link to choose a password: Django's reset token, valid until the password is set."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "gone"
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    partner = getattr(user, "partner", None)
    context = {
        "user": user,
        "partner": partner,
        "link": site_link(path),
        "login_link": site_link(reverse("login")),
    }
    try:
        _send(user=user, template="invitation", context=context)
    except Exception:
        logger.exception("Invitation e-mail to %s failed", user.email)
        raise
    return "sent"
