from decimal import Decimal

import pytest

from catalog.tests.factories import BookFactory
from operations.billing.models import Invoice
from operations.services import report_void
from operations.tests.factories import delivered_order, submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    return BookFactory(price=Decimal("10.00"))


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [("en", "Invoice FAC-", "due by"), ("fr", "Facture FAC-", "à régler avant le")],
)
def test_the_partner_gets_the_invoice_pdf_after_commit_in_its_language(
    partner, book, mailoutbox, django_capture_on_commit_callbacks, language, subject, phrase
):
    partner.user.language = language
    partner.user.save()
    delivered_order(partner, (book, 2))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = submit_report(partner, (book, 1))
    assert mailoutbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    invoice = Invoice.objects.get(report=report)
    (message,) = mailoutbox
    assert message.to == [partner.user.email]
    assert message.subject.startswith(subject)
    assert invoice.number in message.subject
    assert phrase in message.body
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")


def test_a_nothing_sold_report_sends_no_invoice(
    partner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_report(partner)
    assert mailoutbox == []


def test_a_void_sends_the_credit_note(
    partner, admin_user, book, mailoutbox, django_capture_on_commit_callbacks
):
    delivered_order(partner, (book, 2))
    report = submit_report(partner, (book, 1))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report_void(report=report, by=admin_user, reason="Wrong")
    (message,) = [m for m in mailoutbox if m.attachments]
    assert "AVO-" in message.subject
    assert message.attachments[0][0].startswith("AVO-")


def test_a_failing_queue_does_not_undo_the_report(
    partner, book, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from types import SimpleNamespace

    from operations.billing import tasks

    def broken(**kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "send_billing_document_email", SimpleNamespace(enqueue=broken))
    delivered_order(partner, (book, 1))
    with django_capture_on_commit_callbacks(execute=True):
        report = submit_report(partner, (book, 1))
    assert Invoice.objects.filter(report=report).exists()
    assert "Could not queue the e-mail" in caplog.text
