"""The trailing twelve months: one row per book and per partner holding the window's months
summed, kept by the services in the same transaction, rolled forward from the months on the
first read of a month, checked by `ledger_check`, and read by the analytics page with the
same figures as the months give."""

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connections, transaction
from django.utils import timezone

from accounts.tests.factories import PartnerFactory
from catalog.tests.factories import BookFactory
from operations import analytics
from operations.balances import balances_rebuild
from operations.clock import backdated
from operations.ledger import check_ledger
from operations.management.commands.benchmark import build_ledger
from operations.models import BookSalesTrailing, PartnerSalesTrailing, SalesWindow
from operations.returns import Receipt, return_receive, return_ship
from operations.rollups import add_months, trailing_roll
from operations.services import report_void
from operations.tests.factories import delivered_order, request_return, submit_report

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book_row(book, window=date(2025, 12, 1)) -> tuple:
    row = BookSalesTrailing.objects.filter(window=window, book=book).first()
    return (row.sold, row.revenue) if row else None


def partner_row(partner, window=date(2025, 12, 1)) -> tuple:
    row = PartnerSalesTrailing.objects.filter(window=window, partner=partner).first()
    if row is None:
        return None
    return (row.delivered, row.sold, row.revenue, row.returned, row.damaged)


@pytest.mark.django_db
def test_the_services_keep_the_window_and_leave_the_other_months_out(
    admin_user, partner, other_partner
):
    nana = BookFactory(price=Decimal("10.00"))
    germinal = BookFactory(price=Decimal("8.50"))
    with backdated(paris(2024, 12, 10, 9)):
        delivered_order(partner, (nana, 10), (germinal, 4), admin=admin_user)
        submit_report(partner, (nana, 1))  # December 2024: before the window
    assert trailing_roll(month=date(2025, 12, 1)) == date(2025, 12, 1)
    assert not BookSalesTrailing.objects.exists()
    assert not PartnerSalesTrailing.objects.exists()

    # 1 March 00:30 in Paris is still February in UTC: the month is the local one.
    with backdated(paris(2025, 3, 1, 0, 30)):
        report = submit_report(partner, (nana, 2), (germinal, 1))
    with backdated(paris(2025, 6, 2, 9)):
        delivered_order(other_partner, (nana, 3), admin=admin_user)
        submit_report(other_partner, (nana, 1))
    with backdated(paris(2026, 1, 3, 9)):
        submit_report(other_partner, (nana, 1))  # after the window
    assert book_row(nana) == (3, Decimal("30.00"))
    assert book_row(germinal) == (1, Decimal("8.50"))
    assert partner_row(partner) == (0, 3, Decimal("28.50"), 0, 0)
    assert partner_row(other_partner) == (3, 1, Decimal("10.00"), 0, 0)

    # A void (in July) takes the report back out of the window, as out of its month.
    with backdated(paris(2025, 7, 1, 9)):
        report_void(report=report, by=admin_user, reason="Typo")
    assert book_row(nana) == (1, Decimal("10.00"))
    assert book_row(germinal) == (0, Decimal("0.00"))
    assert partner_row(partner) == (0, 0, Decimal("0.00"), 0, 0)

    ret = request_return(partner, (nana, 2))
    return_ship(ret=ret, by=partner.user)
    with backdated(paris(2025, 8, 5, 9)):
        return_receive(
            ret=ret, by=admin_user, receipts=[Receipt(book_id=nana.pk, received=2, damaged=1)]
        )
    assert partner_row(partner) == (0, 0, Decimal("0.00"), 2, 1)
    assert check_ledger() == []


@pytest.mark.django_db
def test_the_roll_sums_twelve_months_keeps_the_previous_window_and_never_goes_back(
    admin_user, partner
):
    book = BookFactory(price=Decimal("10.00"))
    with backdated(paris(2024, 1, 5, 9)):
        delivered_order(partner, (book, 50), admin=admin_user)
    for month, copies in ((1, 1), (6, 6), (12, 12)):
        with backdated(paris(2025, month, 15, 10)):
            submit_report(partner, (book, copies))
    with backdated(paris(2026, 1, 15, 10)):
        submit_report(partner, (book, 2))

    trailing_roll(month=date(2025, 12, 1))  # January to December 2025
    assert book_row(book) == (19, Decimal("190.00"))
    assert partner_row(partner) == (0, 19, Decimal("190.00"), 0, 0)

    trailing_roll(month=date(2026, 1, 1))  # February 2025 to January 2026
    assert book_row(book, date(2026, 1, 1)) == (20, Decimal("200.00"))
    assert book_row(book) == (19, Decimal("190.00"))  # a read begun before the roll
    assert SalesWindow.objects.get().month == date(2026, 1, 1)

    assert trailing_roll(month=date(2025, 6, 1)) == date(2026, 1, 1)  # never back
    assert SalesWindow.objects.get().month == date(2026, 1, 1)

    trailing_roll(month=date(2026, 2, 1))
    windows = set(BookSalesTrailing.objects.values_list("window", flat=True))
    assert windows == {date(2026, 1, 1), date(2026, 2, 1)}
    assert book_row(book, date(2026, 2, 1)) == (20, Decimal("200.00"))  # March to February
    assert check_ledger() == []


@pytest.mark.django_db
def test_the_ledger_check_names_a_damaged_window_and_the_rebuild_rolls_it_again(
    admin_user, partner
):
    book = BookFactory(price=Decimal("10.00"))
    delivered_order(partner, (book, 3), admin=admin_user)
    submit_report(partner, (book, 1))
    month = timezone.localdate().replace(day=1)
    trailing_roll(month=month)
    BookSalesTrailing.objects.update(sold=99)
    PartnerSalesTrailing.objects.all().delete()
    violations = [str(v) for v in check_ledger()]
    assert any("[sales_over_twelve_months]" in v and "sold is 99" in v for v in violations)
    assert any("[sales_over_twelve_months]" in v and "no row" in v for v in violations)

    balances_rebuild()  # the rollups from the ledger: the window waits for its next read
    assert not SalesWindow.objects.exists()
    assert check_ledger() == []
    filters = analytics.SalesFilters(*analytics.default_sales_period())
    assert analytics.with_trailing(filters).window == month
    assert book_row(book, month) == (1, Decimal("10.00"))
    assert check_ledger() == []


@pytest.mark.django_db
def test_the_page_s_reads_give_the_same_figures_from_the_window_as_from_the_months():
    # Random copies: many books and partners tie, so the cut and its ties are exercised.
    ledger = build_ledger(24, 40, 15, 8)
    today = timezone.localdate()
    filters = analytics.SalesFilters(*analytics.default_sales_period())
    assert not SalesWindow.objects.exists()
    fast = analytics.with_trailing(filters)
    assert fast.window == today.replace(day=1)
    assert SalesWindow.objects.get().month == fast.window
    assert BookSalesTrailing.objects.filter(window=fast.window).exists()

    for limit in (1, 3, 7, 20, None):
        assert analytics.best_sellers(fast, limit=limit) == analytics.best_sellers(
            filters, limit=limit
        )
    assert analytics.sales_by_partner(fast) == analytics.sales_by_partner(filters)
    for limit in (1, 5, 50):
        got = analytics.partner_sales(fast, limit=limit)
        assert got == analytics.partner_sales(filters, limit=limit)
        assert len(got.rows) == min(limit, got.count)
    every = analytics.partner_sales(fast)
    assert every.count == len(ledger["partners"])
    assert every.total.copies_sold > 0

    # Any other period, or one partner's, reads the months.
    first = filters.date_from
    others = [
        replace(filters, partner_id=ledger["partners"][0].pk),
        replace(filters, date_from=first + timedelta(days=1)),
        replace(filters, date_from=add_months(first, -1)),
        replace(filters, date_to=first.replace(day=28) + timedelta(days=31)),
    ]
    for other in others:
        assert analytics.with_trailing(other).window is None


@pytest.mark.django_db(transaction=True)
def test_a_roll_racing_reports_of_other_partners_misses_none():
    """Seven partners report while the window rolls forward onto their month: the roll waits
    for the reports that read the old window (FOR SHARE on PostgreSQL, one writer at a time
    on SQLite), and the reports after it add to the new one."""
    book = BookFactory(price=Decimal("10.00"))
    partners = [PartnerFactory() for _ in range(7)]
    for partner in partners:
        delivered_order(partner, (book, 5))
    month = timezone.localdate().replace(day=1)
    trailing_roll(month=add_months(month, -1))
    barrier = threading.Barrier(len(partners) + 1, timeout=30)
    errors = []

    def run(target):
        try:
            barrier.wait()
            target()
        except Exception as exc:  # asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(lambda p=partner: submit_report(p, (book, 2)),))
        for partner in partners
    ]
    threads.append(threading.Thread(target=run, args=(lambda: trailing_roll(month=month),)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    assert SalesWindow.objects.get().month == month
    assert book_row(book, month) == (14, Decimal("140.00"))
    assert check_ledger() == []


@pytest.mark.django_db(transaction=True)
def test_a_roll_waits_for_a_report_that_read_the_old_window(partner):
    """A report has read the window (month before) and has not committed: the roll onto the
    report's month waits for it, then counts it. Without the shared lock the roll would sum
    the months without the report, and the report would write nothing in the new window."""
    book = BookFactory(price=Decimal("10.00"))
    delivered_order(partner, (book, 5))
    month = timezone.localdate().replace(day=1)
    trailing_roll(month=add_months(month, -1))
    reported, release, rolled = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def report():
        try:
            with transaction.atomic():
                submit_report(partner, (book, 2))
                reported.set()
                assert release.wait(timeout=30)
        except Exception as exc:  # asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    def roll():
        try:
            trailing_roll(month=month)
            rolled.set()
        except Exception as exc:  # asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    reporter = threading.Thread(target=report)
    reporter.start()
    assert reported.wait(timeout=30)
    roller = threading.Thread(target=roll)
    roller.start()
    waited = not rolled.wait(timeout=1)
    release.set()
    reporter.join(timeout=60)
    roller.join(timeout=60)
    assert errors == []
    assert waited, "the roll did not wait for the report"
    assert book_row(book, month) == (2, Decimal("20.00"))
    assert check_ledger() == []
