"""Two runs of `send_reminders` at the same moment send each reminder once, on SQLite and
on PostgreSQL: both pass the "already sent?" read, then the unique key lets one insert win
(the other waits for its transaction, fails and skips)."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations import reminders
from operations.billing.models import Invoice
from operations.clock import backdated
from operations.models import Notification, Reminder
from operations.tests.factories import delivered_order, submit_report
from operations.tests.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.REPORT_REMINDER_DAYS = 30


def test_runs_at_the_same_moment_send_each_reminder_once(
    monkeypatch, partner, other_partner, admin_user
):
    now = timezone.now()
    with backdated(now - timedelta(days=31)):
        delivered_order(partner, (BookFactory(), 2), admin=admin_user)
    with backdated(now - timedelta(days=60)):
        delivered_order(other_partner, (book := BookFactory(), 2), admin=admin_user)
        report = submit_report(other_partner, (book, 1))
    invoice = Invoice.objects.get(report=report)
    assert invoice.due_date < timezone.localdate() - timedelta(days=15)

    real_due = reminders.due_reminders
    everyone_read = threading.Barrier(THREADS, timeout=30)

    def due_then_wait(*, today):
        due = real_due(today=today)
        everyone_read.wait()  # every run has found nothing sent before any run inserts
        return due

    monkeypatch.setattr(reminders, "due_reminders", due_then_wait)
    mail.outbox = []
    results, errors = race(lambda: call_command("send_reminders", verbosity=0), THREADS)
    assert errors == []
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == [
        "digest",
        "overdue",
        "report",
    ]
    recipients = sorted(r for m in mail.outbox for r in m.to)
    assert recipients == sorted([partner.user.email, other_partner.user.email, admin_user.email])
    assert Notification.objects.filter(event__endswith="_reminder").count() == 2
