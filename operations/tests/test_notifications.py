import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import AdminUserFactory
from catalog.tests.factories import BookFactory
from operations.models import Notification, Operation
from operations.services import order_approve, order_deliver, order_reject
from operations.tests.factories import place_order

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def book(db):
    return BookFactory(title="Germinal")


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE_TASKS
    settings.SITE_URL = "https://toplivres.example"


def test_a_committed_order_notifies_and_emails_every_active_admin(
    admin_user, partner, book, django_capture_on_commit_callbacks, mailoutbox
):
    second = AdminUserFactory(email="bea@example.com")
    AdminUserFactory(email="gone@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = place_order(partner, (book, 2))
        # In-app notices are written with the order, e-mails wait for the commit.
        assert Notification.objects.filter(operation=order).count() == 2
        assert mailoutbox == []
    assert len(callbacks) == 1
    recipients = sorted(r for m in mailoutbox for r in m.to)
    assert recipients == sorted([admin_user.email, second.email])
    message = mailoutbox[0]
    assert order.reference in message.subject
    assert "Alice Livres" in message.subject
    change = reverse("admin:operations_operation_change", args=[order.pk])
    assert f"https://toplivres.example{change}" in message.body
    notices = Notification.objects.filter(operation=order, event="order_placed")
    assert {n.recipient_id for n in notices} == {admin_user.pk, second.pk}


def test_a_rolled_back_order_leaves_no_notice_and_sends_nothing(
    admin_user, partner, book, django_capture_on_commit_callbacks, mailoutbox
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        place_order(partner, (book, 2))
        raise RuntimeError("something after the order failed")
    assert callbacks == []
    assert Operation.objects.count() == 0
    assert Notification.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("steps", "event", "word"),
    [
        (["approve"], "order_approved", "approved"),
        (["approve", "deliver"], "order_delivered", "delivered"),
        (["reject"], "order_rejected", "declined"),
    ],
)
def test_the_partner_is_told_of_each_admin_decision(
    admin_user, partner, book, django_capture_on_commit_callbacks, mailoutbox, steps, event, word
):
    order = place_order(partner, (book, 2))
    mailoutbox.clear()
    partner.user.language = "en"
    partner.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        for step in steps:
            if step == "approve":
                order = order_approve(order=order, by=admin_user)
            elif step == "deliver":
                order = order_deliver(order=order, by=admin_user)
            else:
                order = order_reject(order=order, by=admin_user, reason="Titre épuisé")
    assert Notification.objects.filter(recipient=partner.user, event=event).count() == 1
    last = mailoutbox[-1]
    assert last.to == [partner.user.email]
    assert order.reference in last.subject and word in last.subject
    assert f"https://toplivres.example/orders/{order.pk}/" in last.body
    if event == "order_rejected":
        assert "Titre épuisé" in last.body


def test_each_email_is_rendered_in_the_recipients_language(
    admin_user, partner, book, django_capture_on_commit_callbacks, monkeypatch
):
    from toplivres import mail as mailer

    admin_user.language = "en"
    admin_user.save()
    partner.user.language = "fr"
    partner.user.save()
    seen = {}

    def record(subject, body, from_email, to):
        seen[to[0]] = translation.get_language()

    rendered = mailer.render_to_string

    def render(template, context):
        seen.setdefault("rendering", []).append(translation.get_language())
        return rendered(template, context)

    monkeypatch.setattr(mailer, "send_mail", record)
    monkeypatch.setattr(mailer, "render_to_string", render)
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        order = place_order(partner, (book, 1))
        order_approve(order=order, by=admin_user)
    # Admin mail (placed) rendered in English, partner mail (approved) in French.
    assert seen["rendering"] == ["en", "en", "fr", "fr"]


def test_a_failing_mail_server_loses_no_order_and_logs_the_failure(
    settings, admin_user, partner, book, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "operations.tests.test_notifications.FailingEmailBackend"
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        order = place_order(partner, (book, 2))
    assert Operation.objects.filter(pk=order.pk).exists()
    assert Notification.objects.filter(operation=order).count() == 1
    failures = [r for r in caplog.records if r.name == "operations.tasks"]
    assert failures and order.reference in failures[0].getMessage()
    assert failures[0].exc_info is not None


def test_the_resend_action_sends_the_emails_of_an_operation_again(
    settings, admin_client, admin_user, partner, book, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "operations.tests.test_notifications.FailingEmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(partner, (book, 2))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    response = admin_client.post(
        reverse("admin:operations_operation_changelist"),
        {"action": "resend_emails", "_selected_action": [order.pk]},
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[admin_user.email]]


@pytest.mark.django_db(transaction=True)
def test_failed_emails_are_recorded_by_the_queue_and_retried(settings, caplog):
    """With the database backend, a failed e-mail is FAILED in the queue; the command puts it
    back, and the worker sends it once the mail server is back."""
    from django_tasks_db.models import DBTaskResult

    from accounts.tests.factories import PartnerFactory, UserFactory

    settings.TASKS = DB_TASKS
    settings.EMAIL_BACKEND = "operations.tests.test_notifications.FailingEmailBackend"
    admin = AdminUserFactory(email="desk@example.com")
    partner = PartnerFactory(user=UserFactory(email="carla@example.com"))
    order = place_order(partner, (BookFactory(), 2))  # autocommit: queued at once

    queued = DBTaskResult.objects.get()
    assert queued.status == "READY"
    worker = {"batch": True, "interval": 0, "startup_delay": False, "reload": False}
    with caplog.at_level(logging.ERROR):
        call_command("db_worker", **worker)
    queued.refresh_from_db()
    assert queued.status == "FAILED"
    assert "SMTPServerDisconnected" in queued.exception_class_path
    assert Operation.objects.filter(pk=order.pk).exists()
    assert any(r.name == "operations.tasks" for r in caplog.records)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    call_command("retry_failed_emails")
    call_command("retry_failed_emails")  # safe to run twice: nothing more is queued
    queued.refresh_from_db()
    assert queued.status == "READY"
    call_command("db_worker", **worker)
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert [m.to for m in mail.outbox] == [[admin.email]]


def test_retry_command_explains_it_needs_the_database_backend():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="immediate"):
        call_command("retry_failed_emails")
