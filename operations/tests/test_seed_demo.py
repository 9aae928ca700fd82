import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from accounts.models import Partner, User
from catalog.models import Book, Series
from operations.models import Item, Operation, Status
from operations.selectors import ordering_state, stock_totals

pytestmark = pytest.mark.django_db


def seed(settings, *args):
    settings.DEBUG = True
    call_command("seed_demo", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115


def partner(email):
    return Partner.objects.select_related("user").get(user__email=email)


def test_seed_demo_loads_a_data_set_where_every_rule_holds(settings):
    seed(settings)
    assert User.objects.filter(email="admin@example.com", is_staff=True).exists()
    assert Partner.objects.count() == 8
    assert 35 <= Book.objects.count() <= 45
    assert 5 <= Series.objects.count() <= 7
    assert Operation.objects.count() > 40

    showcase = partner("partner1@example.com")
    assert ordering_state(partner=showcase).can_order
    assert stock_totals(partner=showcase).copies > 0
    assert showcase.user.check_password("demo1234")

    assert ordering_state(partner=partner("partner2@example.com")).open_order.status == (
        Status.PENDING
    )
    assert ordering_state(partner=partner("partner3@example.com")).open_order.status == (
        Status.APPROVED
    )
    assert ordering_state(partner=partner("partner4@example.com")).code == "awaiting_report"
    # ... for over 30 days: the reminders' dry run names it (and only it) for a report.
    out = io.StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    to_report = [line for line in out.getvalue().splitlines() if "would send report:" in line]
    assert len(to_report) == 1 and "Le Café Littéraire" in to_report[0]
    assert not partner("partner5@example.com").operations.exists()
    suspended = partner("partner6@example.com")
    assert suspended.is_suspended
    assert not suspended.user.is_active
    assert Operation.objects.filter(status=Status.VOIDED).exists()
    assert Operation.objects.filter(status=Status.REJECTED).exists()
    assert Operation.objects.filter(status=Status.CANCELLED).exists()

    # Stock never negative, for any partner and book.
    per_line = (
        Item.objects.filter(operation__counts_in_stock=True)
        .values("operation__partner_id", "book_id")
        .annotate(held=Sum("quantity"))
    )
    assert min(row["held"] for row in per_line) >= 0


def test_seed_demo_run_twice_leaves_one_data_set(settings):
    seed(settings)
    counts = (User.objects.count(), Book.objects.count(), Operation.objects.count())
    seed(settings)
    assert (User.objects.count(), Book.objects.count(), Operation.objects.count()) == counts


def test_seed_demo_reset_starts_over(settings):
    seed(settings)
    first = set(Operation.objects.values_list("reference", flat=True))
    seed(settings, "--reset")
    assert set(Operation.objects.values_list("reference", flat=True)) == first
    assert Partner.objects.count() == 8


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_if_empty_does_nothing_when_users_exist(settings, admin_user):
    seed(settings, "--if-empty")
    assert User.objects.count() == 1


def test_the_demo_return_is_shipped_on_the_portal_and_received_in_the_admin(settings, client):
    """The README's walk-through: partner1 ships its return, the admin receives it, the stock
    changes and the ledger holds."""
    from django.urls import reverse

    from operations.ledger import check_ledger
    from operations.models import StockBalance

    seed(settings)
    settings.DEBUG = False
    returns = Operation.objects.returns()
    assert returns.get(partner__user__email="partner2@example.com").status == Status.RECALLED
    assert returns.get(partner__user__email="partner8@example.com").status == Status.SHIPPED
    received = returns.get(partner__user__email="partner7@example.com")
    assert received.status == Status.RECEIVED
    assert any(item.shortfall for item in received.items.all())

    alice = partner("partner1@example.com")
    ret = returns.get(partner=alice, status=Status.REQUESTED)
    before = dict(StockBalance.objects.filter(partner=alice).values_list("book_id", "quantity"))
    client.force_login(alice.user)
    client.post(reverse("operations:return_ship", args=[ret.pk]), {"carrier_reference": "X"})
    client.force_login(User.objects.get(email="admin@example.com"))
    data = {}
    for item in ret.items.all():
        data[f"received_{item.book_id}"] = item.requested
        data[f"damaged_{item.book_id}"] = 0
    client.post(reverse("admin:operations_operation_receive", args=[ret.pk]), data)
    ret.refresh_from_db()
    assert ret.status == Status.RECEIVED
    after = dict(StockBalance.objects.filter(partner=alice).values_list("book_id", "quantity"))
    for item in ret.items.all():
        assert after[item.book_id] == before[item.book_id] - item.requested
    assert check_ledger() == []
