"""E-mail an invoice or credit note to its partner, with the PDF attached, in its language.

Queued by the billing services with transaction.on_commit; run by django-tasks (at once, or
by `manage.py db_worker`). A failure is logged and raised, so the database backend records it
as FAILED and `manage.py retry_failed_emails` can queue it again.
"""

import logging

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from operations.billing.models import BillingDocument
from operations.billing.pdf import document_pdf

logger = logging.getLogger(__name__)


@task()
def send_billing_document_email(*, document_id: int) -> str:
    document = (
        BillingDocument.objects.select_related("partner__user", "credited_invoice")
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        return "gone"
    from operations.tasks import site_link

    user = document.partner.user
    link = site_link(reverse("operations:invoice_detail", args=[document.pk]))
    context = {"document": document, "partner": document.partner, "user": user, "link": link}
    try:
        with translation.override(document.language):
            subject = " ".join(
                render_to_string("emails/billing_document_subject.txt", context).split()
            )
            body = render_to_string("emails/billing_document.txt", context)
        pdf = document_pdf(document)
        message = EmailMessage(subject, body, None, [user.email])
        message.attach(document.filename, pdf, "application/pdf")
        message.send()
    except Exception:
        logger.exception("E-mail of %s to %s failed", document.number, user.email)
        raise
    return "sent"
