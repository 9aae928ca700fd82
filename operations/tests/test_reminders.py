"""`manage.py send_reminders`: each reminder goes once, however often the command runs."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.services import partner_update
from catalog.tests.factories import BookFactory
from operations.billing.models import Invoice
from operations.clock import backdated
from operations.models import Notification, Reminder
from operations.reminders import digest_key, overdue_total
from operations.tests.factories import delivered_order, submit_report

pytestmark = pytest.mark.django_db

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MONDAY = date(2026, 6, 1)  # a Monday, ISO week 23
DELIVERED = MONDAY - timedelta(days=30)


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE_TASKS
    settings.SITE_URL = "https://toplivres.example"
    settings.REPORT_REMINDER_DAYS = 30


@pytest.fixture(autouse=True)
def _admin_reads_english(admin_user):
    admin_user.language = "en"
    admin_user.save()


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=9))


def run(day: date, *args, capture=None) -> str:
    out = io.StringIO()
    with backdated(at(day)):
        if capture is not None:
            with capture(execute=True):
                call_command("send_reminders", *args, stdout=out)
        else:
            call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    return lambda day, *args: run(day, *args, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def english(partner):
    partner.user.language = "en"
    partner.user.save()
    return partner


@pytest.fixture
def delivery(english, admin_user):
    """Alice holds a delivery of DELIVERED, with no report since."""
    with backdated(at(DELIVERED)):
        return delivered_order(english, (BookFactory(title="Germinal"), 3), admin=admin_user)


def to(mailoutbox, email):
    return [m for m in mailoutbox if email in m.to]


def test_two_runs_on_one_day_send_each_email_once(send, delivery, admin_user, mailoutbox):
    first = send(MONDAY)
    assert "2 reminders sent: 1 to report, 0 overdue, 1 digest." in first
    send(MONDAY)
    alice = to(mailoutbox, "alice@example.com")
    assert len(alice) == 1
    assert "Reminder: report your sales" in alice[0].subject
    assert delivery.reference in alice[0].body
    assert "https://toplivres.example" + reverse("operations:report_new") in alice[0].body
    assert len(to(mailoutbox, admin_user.email)) == 1
    assert Reminder.objects.count() == 2
    assert Reminder.objects.get(kind="report").key == f"report:{delivery.partner_id}:" + (
        f"{delivery.reference}:1"
    )


def test_nothing_is_due_before_n_days(send, delivery, mailoutbox):
    send(MONDAY - timedelta(days=1))
    assert to(mailoutbox, "alice@example.com") == []


def test_the_next_report_reminder_comes_n_days_later(send, delivery, mailoutbox):
    send(MONDAY)
    send(MONDAY + timedelta(days=15))
    assert len(to(mailoutbox, "alice@example.com")) == 1
    send(MONDAY + timedelta(days=30))
    send(MONDAY + timedelta(days=31))
    assert len(to(mailoutbox, "alice@example.com")) == 2
    steps = sorted(Reminder.objects.filter(kind="report").values_list("step", flat=True))
    assert steps == [1, 2]


def test_a_report_stops_the_report_reminders(send, delivery, mailoutbox):
    with backdated(at(MONDAY - timedelta(days=2))):
        submit_report(delivery.partner)  # nothing sold: a real report
    send(MONDAY)
    send(MONDAY + timedelta(days=60))
    assert not Reminder.objects.filter(kind="report").exists()


def test_the_reminder_is_a_notice_on_the_dashboard(send, delivery, client):
    send(MONDAY)
    notice = Notification.objects.get(event=Notification.Event.REPORT_REMINDER)
    assert notice.recipient == delivery.partner.user and notice.operation == delivery
    client.force_login(delivery.partner.user)
    page = client.get(reverse("operations:dashboard")).content.decode()
    assert "Reminder: report your sales since the delivery of" in page


@pytest.fixture
def overdue(english, admin_user):
    """Alice's invoice, with a report after the delivery (no report reminder)."""
    book = BookFactory(title="Nana")
    with backdated(at(DELIVERED)):
        delivered_order(english, (book, 3), admin=admin_user)
        report = submit_report(english, (book, 2))
    return Invoice.objects.get(report=report)


def test_overdue_invoices_are_reminded_at_1_15_and_30_days(send, overdue, mailoutbox):
    due = overdue.due_date
    for days in (0, 1, 2, 14, 15, 16, 29, 30, 31, 60):
        send(due + timedelta(days=days))
    alice = to(mailoutbox, "alice@example.com")
    assert len(alice) == 3
    assert all(f"invoice {overdue.number} is overdue" in m.subject for m in alice)
    keys = sorted(Reminder.objects.filter(kind="overdue").values_list("key", flat=True))
    assert keys == [f"overdue:{overdue.number}:{n}" for n in (1, 15, 30)]
    assert Notification.objects.filter(event="payment_reminder", operation=overdue.report).count()


def test_a_late_first_run_sends_only_the_latest_step(send, overdue, mailoutbox):
    send(overdue.due_date + timedelta(days=20))
    assert list(Reminder.objects.filter(kind="overdue").values_list("step", flat=True)) == [15]


def deliver_again(partner, admin_user):
    with backdated(at(DELIVERED)):
        return delivered_order(partner, (BookFactory(), 1), admin=admin_user)


def test_switched_off_partners_get_nothing(send, overdue, admin_user, mailoutbox):
    deliver_again(overdue.partner, admin_user)
    partner = partner_update(partner=overdue.partner, by=admin_user, reminders_enabled=False)
    entry = AuditEntry.objects.filter(action="partner.updated").latest("pk")
    assert entry.before == {"reminders_enabled": True}
    assert entry.after == {"reminders_enabled": False}
    send(overdue.due_date + timedelta(days=1))
    send(overdue.due_date + timedelta(days=40))
    assert to(mailoutbox, partner.user.email) == []
    assert not Reminder.objects.filter(partner=partner).exists()
    assert Reminder.objects.filter(kind="digest").exists()  # admins still get theirs


def test_the_digest_goes_once_per_iso_week(send, overdue, admin_user, mailoutbox):
    deliver_again(overdue.partner, admin_user)
    for day in range(7):  # Monday to Sunday
        send(MONDAY + timedelta(days=day))
    digests = to(mailoutbox, admin_user.email)
    assert len(digests) == 1
    send(MONDAY + timedelta(days=7))
    assert len(to(mailoutbox, admin_user.email)) == 2
    assert digest_key(MONDAY) == "digest:2026-W23"
    body = digests[0].body
    assert "1 partner owing a sales report" in body
    assert "0 orders to approve" in body


def test_the_digest_counts_the_overdue_total(send, overdue, admin_user, mailoutbox):
    day = overdue.due_date + timedelta(days=3)
    count, total = overdue_total(today=day)
    assert (count, total) == (1, overdue.total_incl_vat)
    send(day)
    assert f"1 overdue invoice, €{total} in all" in to(mailoutbox, admin_user.email)[0].body


def test_a_dry_run_prints_and_sends_nothing(send, delivery, mailoutbox):
    out = send(MONDAY, "--dry-run")
    assert f"would send report:{delivery.partner_id}:{delivery.reference}:1" in out
    assert "would send digest:2026-W23" in out
    assert mailoutbox == [] and not Reminder.objects.exists()
    assert not Notification.objects.filter(event="report_reminder").exists()


def test_the_partner_admin_switches_reminders_off(admin_client, partner):
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    page = admin_client.get(url)
    assert "reminders_enabled" in page.content.decode()


def test_the_reminder_is_written_in_the_partners_language(send, delivery, mailoutbox):
    user = delivery.partner.user
    user.language = "fr"
    user.save()
    send(MONDAY)
    (message,) = to(mailoutbox, user.email)
    assert message.subject == "Rappel : déclarez vos ventes"
    assert f"Votre commande {delivery.reference} a été livrée le" in message.body


def test_the_ledger_check_holds_after_reminders_and_finds_a_stray_one(send, overdue, admin_user):
    from operations.ledger import check_ledger

    delivery = deliver_again(overdue.partner, admin_user)
    send(overdue.due_date + timedelta(days=1))
    assert Reminder.objects.filter(kind__in=["report", "overdue"]).count() == 2
    assert check_ledger() == []
    Reminder.objects.create(
        key="overdue:stray:1", kind="overdue", partner=overdue.partner, operation=delivery
    )
    assert [v.check for v in check_ledger()] == ["reminder"]


def test_the_overdue_total_is_what_is_left_to_pay(overdue, admin_user):
    from operations.billing.payment_services import payment_record
    from operations.billing.payments import PaymentMethod

    day = overdue.due_date + timedelta(days=3)
    paid = Decimal("1.00")
    payment_record(
        partner=overdue.partner,
        amount=paid,
        received_on=overdue.due_date,
        method=PaymentMethod.CHEQUE,
        reference="CHQ 1",
        by=admin_user,
    )
    assert overdue_total(today=day) == (1, overdue.total_incl_vat - paid)
