"""E-mails about accounts, run by django-tasks (at once, or by `manage.py db_worker`).

A failure is logged and raised again, so that the database backend records it as FAILED
(`manage.py retry_failed_emails` queues it again).
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from accounts.models import User
from toplivres.mail import send_templated, site_link

logger = logging.getLogger(__name__)


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
        send_templated(user=user, template="invitation", context=context)
    except Exception:
        logger.exception("Invitation e-mail to %s failed", user.email)
        raise
    return "sent"


@task()
def send_password_reset_email(*, email: str) -> str:
    """The reset link for each active account of `email` (none for an unknown address).

    Runs outside the request, so that the answer to the form takes the same time whether
    the address is known or not.
    """
    site = urlsplit(settings.SITE_URL)
    form = PasswordResetForm()
    sent = 0
    for user in form.get_users(email):
        context = {
            "email": user.email,
            "domain": site.netloc,
            "site_name": "toplivres",
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": site.scheme or "https",
        }
        try:
            with translation.override(user.language):
                form.send_mail(
                    "registration/password_reset_subject.txt",
                    "registration/password_reset_email.html",
                    context,
                    None,
                    user.email,
                )
        except Exception:
            logger.exception("Password-reset e-mail to %s failed", user.email)
            raise
        sent += 1
    return f"sent {sent}"
