"""Sending a templated e-mail to one person, in that person's language.

Shared by the e-mail tasks of every app (accounts.tasks, operations.tasks).
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send_templated(*, user, template: str, context: dict) -> None:
    """Render emails/<template>_subject.txt and emails/<template>.txt in the user's language."""
    with translation.override(user.language):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        body = render_to_string(f"emails/{template}.txt", context)
    subject = " ".join(subject.split())
    send_mail(subject, body, None, [user.email])
