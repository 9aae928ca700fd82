"""Outgoing account e-mail, run by django-tasks (at once, or by `manage.py db_worker`)."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

logger = logging.getLogger(__name__)


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
