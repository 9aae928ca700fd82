"""`manage.py ledger_check`: silent on a sound ledger, and names the row on a damaged one."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.tests.factories import BookFactory
from operations.ledger import check_ledger
from operations.models import EventCounter, Item, Operation, ReferenceCounter, StockBalance
from operations.services import report_void
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db


def run_check() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("ledger_check", stdout=out)
    except CommandError as error:
        assert error.returncode == 1
        return False, out.getvalue()
    return True, out.getvalue()


@pytest.fixture
def history(partner, other_partner, admin_user):
    book, other = BookFactory(), BookFactory()
    delivered = delivered_order(partner, (book, 5), (other, 2), admin=admin_user)
    wrong = submit_report(partner, (book, 4))
    report_void(report=wrong, by=admin_user, reason="typo")
    report = submit_report(partner, (book, 2))
    order = place_order(partner, (other, 1))
    delivered_order(other_partner, (book, 1), admin=admin_user)
    return {"book": book, "delivered": delivered, "report": report, "order": order}


def test_a_sound_ledger_passes(history):
    ok, out = run_check()
    assert ok, out
    assert "The ledger is consistent." in out
    assert check_ledger() == []


def test_an_empty_database_passes(db):
    assert run_check()[0]


def test_seed_demo_data_passes(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    ok, out = run_check()
    assert ok, out


def test_stock_going_negative_names_the_partner_book_and_operation(history, partner):
    report = history["report"]
    Item.objects.filter(operation=report).update(quantity=-9)
    ok, out = run_check()
    assert not ok
    assert f"partner {partner.pk}, book {history['book'].pk}: stock -4" in out
    assert f"(operation {report.pk})" in out


def test_a_report_numbered_before_its_delivery_breaks_the_replay(history, partner):
    # The report that sold 2 of 5 copies now comes first: the stock falls below zero there.
    delivered, report = history["delivered"], history["report"]
    Operation.objects.filter(pk=delivered.pk).update(counted_seq=100)
    Operation.objects.filter(pk=report.pk).update(counted_seq=delivered.counted_seq)
    Operation.objects.filter(pk=delivered.pk).update(counted_seq=report.counted_seq)
    ok, out = run_check()
    assert not ok
    assert f"after event {delivered.counted_seq} (operation {report.pk})" in out


def test_a_gap_in_event_numbers_and_a_stale_counter_are_named(history, partner):
    EventCounter.objects.filter(partner=partner).update(last_seq=9)
    ok, out = run_check()
    assert not ok
    assert f"partner {partner.pk}: the counter stands at 9, but 4 events are numbered" in out


def test_an_order_written_while_a_delivery_awaited_its_report_is_named(history):
    order = history["order"]
    # As if it had been written right after the delivery, before any report.
    Operation.objects.filter(pk=order.pk).update(opened_at_seq=history["delivered"].counted_seq)
    ok, out = run_check()
    assert not ok
    assert f"order {order.pk} ({order.reference}) was written at event" in out


def test_a_missing_reference_number_is_named(history):
    ReferenceCounter.objects.filter(prefix="REP").update(last_value=5)
    ok, out = run_check()
    assert not ok
    assert "REP-" in out and "numbers missing" in out and "[3, 4, 5]" in out


def test_an_item_with_the_wrong_sign_is_named(history):
    item = Item.objects.filter(operation=history["order"]).get()
    Item.objects.filter(pk=item.pk).update(quantity=-1)
    ok, out = run_check()
    assert not ok
    assert f"item {item.pk} of order {history['order'].pk}: quantity -1 has the wrong sign" in out


def test_a_stored_balance_that_drifts_from_the_ledger_is_named(history, partner):
    balance = StockBalance.objects.get(partner=partner, book=history["book"])
    StockBalance.objects.filter(pk=balance.pk).update(quantity=balance.quantity + 1)
    ok, out = run_check()
    assert not ok
    assert (
        f"stock balance {balance.pk} (partner {partner.pk}, book {history['book'].pk}): "
        f"quantity is {balance.quantity + 1}, the ledger says {balance.quantity}"
    ) in out


def test_a_missing_balance_row_is_named(history, partner):
    StockBalance.objects.filter(partner=partner, book=history["book"]).delete()
    ok, out = run_check()
    assert not ok
    assert f"partner {partner.pk}, book {history['book'].pk}: no stock balance row" in out
