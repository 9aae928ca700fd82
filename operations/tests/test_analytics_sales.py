"""Sales analytics for admins: by month, by partner, best sellers, slow movers, and the page."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import AdminUserFactory, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory
from operations.analytics import (
    SalesFilters,
    best_sellers,
    default_sales_period,
    sales_by_month,
    sales_by_partner,
    sales_totals,
    slow_movers,
)
from operations.clock import backdated
from operations.services import (
    order_approve,
    order_cancel,
    order_deliver,
    order_place,
    report_submit,
    report_void,
)
from operations.tests.factories import lines_of

pytestmark = pytest.mark.django_db

ANALYTICS = reverse("admin:operations_analytics")
PARIS = ZoneInfo("Europe/Paris")
Q1_2025 = {"date_from": "2025-01-01", "date_to": "2025-03-31"}


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def deliver(partner, admin, *pairs, placed: datetime) -> None:
    """Placed, approved a day later, delivered two days later."""
    with backdated(placed):
        order = order_place(partner=partner, lines=lines_of(*pairs), by=partner.user)
    with backdated(placed + timedelta(days=1)):
        order_approve(order=order, by=admin)
    with backdated(placed + timedelta(days=2)):
        order_deliver(order=order, by=admin)


def report(partner, *pairs, at: datetime):
    with backdated(at):
        return report_submit(partner=partner, lines=lines_of(*pairs), by=partner.user)


def set_commission(partner, rate: str) -> None:
    partner.commission_rate = Decimal(rate)
    partner.save()


@pytest.fixture
def sales(admin_user, partner, other_partner):
    """Three months of 2025 (Paris time). Alice at 30 % then 35 %, Bob at 40 %.

    Sold: January, alice 2 Nana + 1 Germinal (28.50 at 30 %), bob 3 Nana + 1 Assommoir
    (39.00 at 40 %); February, alice 1 Nana at its new price (12.00 at 35 %), bob 1 Nana
    voided; 1 March 00:30 Paris (still February in UTC), bob 2 Nana (24.00 at 40 %).
    Delivered: alice 10 Nana + 5 Germinal in January and 3 Germinal in February, bob 6 Nana +
    2 Assommoir in January; alice's cancelled order of 4 Nana in February counts for nothing.
    """
    nana = BookFactory(title="Nana", price=Decimal("10.00"))
    germinal = BookFactory(title="Germinal", price=Decimal("8.50"))
    assommoir = BookFactory(title="L'Assommoir", price=Decimal("9.00"))
    set_commission(partner, "30")
    set_commission(other_partner, "40")

    deliver(partner, admin_user, (nana, 10), (germinal, 5), placed=paris(2025, 1, 5, 10))
    deliver(other_partner, admin_user, (nana, 6), (assommoir, 2), placed=paris(2025, 1, 8, 10))
    report(partner, (nana, 2), (germinal, 1), at=paris(2025, 1, 20, 18))
    report(other_partner, (nana, 3), (assommoir, 1), at=paris(2025, 1, 31, 23, 30))

    set_commission(partner, "35")  # the January report keeps its 30 %
    with backdated(paris(2025, 2, 10, 9)):
        cancelled = order_place(partner=partner, lines=lines_of((nana, 4)), by=partner.user)
    with backdated(paris(2025, 2, 11, 9)):
        order_cancel(order=cancelled, by=partner.user)
    nana.price = Decimal("12.00")  # sold copies keep the price of their report
    nana.save()
    report(partner, (nana, 1), at=paris(2025, 2, 15, 12))
    deliver(partner, admin_user, (germinal, 3), placed=paris(2025, 2, 16, 9))
    wrong = report(other_partner, (nana, 1), at=paris(2025, 2, 20, 12))
    with backdated(paris(2025, 2, 21, 9)):
        report_void(report=wrong, by=admin_user, reason="Typo")
    report(other_partner, (nana, 2), at=paris(2025, 3, 1, 0, 30))
    return {"nana": nana, "germinal": germinal, "assommoir": assommoir}


def q1(**kwargs) -> SalesFilters:
    return SalesFilters(date_from=date(2025, 1, 1), date_to=date(2025, 3, 31), **kwargs)


def figures(row):
    return (row.copies_sold, row.revenue, row.amount_due)


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


# -- the reads ---------------------------------------------------------------------------------


def test_sales_by_month_count_each_report_at_its_own_commission(sales):
    rows = sales_by_month(q1())
    assert [row.key for row in rows] == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert [figures(row) for row in rows] == [
        (7, Decimal("67.50"), Decimal("43.35")),  # 19.95 + 23.40
        (1, Decimal("12.00"), Decimal("7.80")),  # the voided report is not there
        (2, Decimal("24.00"), Decimal("14.40")),  # 00:30 on 1 March, Paris time
    ]
    assert figures(sales_totals(rows)) == (10, Decimal("103.50"), Decimal("65.55"))


def test_sales_by_month_for_one_partner_keep_months_without_sales(sales, partner):
    rows = sales_by_month(q1(partner_id=partner.pk))
    assert [figures(row) for row in rows] == [
        (3, Decimal("28.50"), Decimal("19.95")),  # at 30 %, not today's 35 %
        (1, Decimal("12.00"), Decimal("7.80")),
        (0, Decimal("0.00"), Decimal("0.00")),
    ]


def test_the_period_ends_at_midnight_paris_time(sales):
    rows = sales_by_month(SalesFilters(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)))
    assert [figures(row) for row in rows] == [(1, Decimal("12.00"), Decimal("7.80"))]


def test_sales_by_partner_with_deliveries_and_sell_through(sales):
    rows = sales_by_partner(q1())
    assert [
        (r.label, r.copies_delivered, r.copies_sold, r.sell_through_percent, r.revenue)
        for r in rows
    ] == [
        ("Alice Livres", 18, 4, Decimal("22.2"), Decimal("40.50")),
        ("Bob Bouquins", 8, 6, Decimal("75.0"), Decimal("63.00")),
    ]
    assert [r.amount_due for r in rows] == [Decimal("27.75"), Decimal("37.80")]
    total = sales_totals(rows)
    assert (total.copies_delivered, total.copies_sold) == (26, 10)
    assert (total.revenue, total.amount_due) == (Decimal("103.50"), Decimal("65.55"))


def test_sales_by_partner_without_delivery_in_the_period_has_no_sell_through(sales):
    rows = sales_by_partner(SalesFilters(date_from=date(2025, 2, 1), date_to=date(2025, 3, 31)))
    by_name = {row.label: row for row in rows}
    assert (by_name["Alice Livres"].copies_delivered, by_name["Alice Livres"].copies_sold) == (
        3,
        1,
    )
    bob = by_name["Bob Bouquins"]
    assert (bob.copies_delivered, bob.copies_sold, bob.sell_through) == (0, 2, None)
    assert (bob.revenue, bob.amount_due) == (Decimal("24.00"), Decimal("14.40"))


def test_best_sellers_by_copies_then_revenue(sales):
    rows = best_sellers(q1())
    assert [(r.label, r.copies_sold, r.revenue, r.partners) for r in rows] == [
        ("Nana", 8, Decimal("86.00"), 2),
        ("L'Assommoir", 1, Decimal("9.00"), 1),
        ("Germinal", 1, Decimal("8.50"), 1),
    ]
    assert rows[0].detail == sales["nana"].isbn
    assert [r.label for r in best_sellers(q1(), limit=1)] == ["Nana"]


def test_the_first_n_best_sellers_are_the_first_n_of_all_ties_included(sales):
    """The page ranks in SQL and keeps the books tied with the n-th (L'Assommoir and
    Germinal both sold 1), then orders them by revenue and title: the first n rows are those
    of the whole ranking, for every n."""
    everything = best_sellers(q1(), limit=None)
    assert [r.label for r in everything] == ["Nana", "L'Assommoir", "Germinal"]
    for n in range(5):
        assert best_sellers(q1(), limit=n) == everything[:n]


def test_nothing_counts_outside_the_period(sales):
    empty = SalesFilters(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31))
    assert sales_by_partner(empty) == []
    assert best_sellers(empty) == []
    assert figures(sales_totals(sales_by_month(empty))) == (0, Decimal(0), Decimal(0))


@pytest.fixture
def shelves(admin_user, partner, other_partner):
    """Relative to now: alice holds Nana unsold for 120 days and Germinal sold 10 days ago;
    bob holds Nana delivered 20 days ago, and Zola sold out long ago."""
    now = timezone.now()
    nana = BookFactory(title="Nana", price=Decimal("10.00"))
    germinal = BookFactory(title="Germinal", price=Decimal("8.50"))
    zola = BookFactory(title="Zola", price=Decimal("5.00"))
    deliver(partner, admin_user, (nana, 3), (germinal, 4), placed=now - timedelta(days=122))
    report(partner, (germinal, 1), at=now - timedelta(days=10))
    deliver(other_partner, admin_user, (zola, 1), placed=now - timedelta(days=202))
    report(other_partner, (zola, 1), at=now - timedelta(days=150))
    deliver(other_partner, admin_user, (nana, 2), placed=now - timedelta(days=22))
    nana.price = Decimal("11.00")  # held copies are valued at today's price
    nana.save()
    return {"now": now, "nana": nana, "germinal": germinal}


def test_slow_movers_are_held_long_without_a_sale(shelves, partner):
    filters = SalesFilters(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
    rows = slow_movers(filters)
    assert [(r.partner, r.title, r.copies, r.value, r.last_sale_at) for r in rows] == [
        ("Alice Livres", "Nana", 3, Decimal("33.00"), None)
    ]
    assert rows[0].last_delivery_at == shelves["now"] - timedelta(days=120)
    # With a threshold of 5 days, the recent sale and the recent delivery no longer protect.
    rows = slow_movers(
        SalesFilters(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31), slow_days=5)
    )
    # Delivered together: then by partner and book (the index's order, no sort).
    assert sorted((r.partner, r.title) for r in rows) == [
        ("Alice Livres", "Germinal"),
        ("Alice Livres", "Nana"),
        ("Bob Bouquins", "Nana"),
    ]
    assert [(r.last_delivery_at, r.partner_id, r.book_id) for r in rows] == sorted(
        (r.last_delivery_at, r.partner_id, r.book_id) for r in rows
    )
    assert slow_movers(filters, limit=0) == []


def test_default_period_is_twelve_calendar_months_up_to_today():
    assert default_sales_period(date(2026, 5, 14)) == (date(2025, 6, 1), date(2026, 5, 14))
    assert default_sales_period(date(2026, 12, 31)) == (date(2026, 1, 1), date(2026, 12, 31))


# -- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_four_tables_in_the_admin_look(admin_client, sales):
    response = admin_client.get(ANALYTICS, Q1_2025)
    assert response.status_code == 200
    assert "admin/base_site.html" in [t.name for t in response.templates]
    assert [figures(row) for row in response.context["months"]][0] == (
        7,
        Decimal("67.50"),
        Decimal("43.35"),
    )
    assert [row.label for row in response.context["books"]][:1] == ["Nana"]
    text = response.text
    for table in ("sales-by-month", "sales-by-partner", "best-sellers", "slow-movers"):
        assert f'id="{table}"' in text
    assert "€103.50" in text and "€65.55" in text
    assert "22.2&nbsp;%" in text
    assert "date_from=2025-01-01&amp;date_to=2025-03-31&amp;table=months&amp;format=csv" in text


def test_the_page_follows_the_french_locale(admin_client, sales):
    # The locale middleware activates French for the request; override() restores the
    # language afterwards, so that later tests read English messages.
    with translation.override("en"):
        response = admin_client.get(ANALYTICS, Q1_2025, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert "103,50\xa0€" in response.text
    assert "janvier 2025" in response.text


def test_the_page_defaults_to_the_last_twelve_months(admin_client, shelves, partner):
    response = admin_client.get(ANALYTICS)
    assert response.status_code == 200
    filters = response.context["filters"]
    assert (filters.date_from, filters.date_to) == default_sales_period()
    assert filters.slow_days == 90
    assert len(response.context["months"]) == 12
    assert [(r.label, r.copies_delivered, r.copies_sold) for r in response.context["partners"]] == [
        ("Alice Livres", 7, 1),
        ("Bob Bouquins", 3, 1),
    ]
    assert [(r.partner, r.title) for r in response.context["slow"]] == [("Alice Livres", "Nana")]
    assert 'value="90"' in response.text


def test_the_partner_filter_applies_to_every_table(admin_client, sales, other_partner):
    response = admin_client.get(ANALYTICS, {**Q1_2025, "partner": other_partner.pk})
    assert [r.label for r in response.context["partners"]] == ["Bob Bouquins"]
    assert figures(response.context["months_total"]) == (6, Decimal("63.00"), Decimal("37.80"))
    assert [(r.label, r.copies_sold) for r in response.context["books"]] == [
        ("Nana", 5),
        ("L'Assommoir", 1),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2025-02-30"}, "date_to"),
        ({"date_from": "2025-03-01", "date_to": "2025-01-01"}, "date_to"),
        ({"date_from": "1990-01-01", "date_to": "2025-01-01"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"days": "-5"}, "days"),
        ({"days": "lots"}, "days"),
        ({"days": "99999999999999999999"}, "days"),
        ({"partner": "999999"}, "partner"),
        ({"partner": "abc"}, "partner"),
    ],
)
def test_bad_filter_input_shows_an_error_and_falls_back_to_defaults(
    admin_client, sales, params, field
):
    response = admin_client.get(ANALYTICS, params)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    filters = response.context["filters"]
    if field.startswith("date"):
        assert (filters.date_from, filters.date_to) == default_sales_period()
    if field == "days":
        assert filters.slow_days == 90
    if field == "partner":
        assert filters.partner_id is None
    assert 'class="errorlist' in response.text


def test_a_refused_field_leaves_the_others_in_force(admin_client, sales, partner):
    response = admin_client.get(ANALYTICS, {**Q1_2025, "partner": partner.pk, "days": "-1"})
    filters = response.context["filters"]
    assert (filters.date_from, filters.date_to, filters.partner_id, filters.slow_days) == (
        date(2025, 1, 1),
        date(2025, 3, 31),
        partner.pk,
        90,
    )


def test_the_csv_of_each_table(admin_client, sales, partner):
    def get(table, **extra):
        return admin_client.get(ANALYTICS, {**Q1_2025, "table": table, "format": "csv", **extra})

    rows = read_csv(get("months"))
    assert rows == [
        ["Month", "Copies sold", "Revenue at retail", "Amount due"],
        ["2025-01", "7", "67.50", "43.35"],
        ["2025-02", "1", "12.00", "7.80"],
        ["2025-03", "2", "24.00", "14.40"],
    ]
    rows = read_csv(get("partners"))
    assert rows[0][:5] == ["Partner", "City", "Copies delivered", "Copies sold", "Sell-through (%)"]
    assert [(r[0], r[2], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("Alice Livres", "18", "4", "22.2", "40.50", "27.75"),
        ("Bob Bouquins", "8", "6", "75.0", "63.00", "37.80"),
    ]
    rows = read_csv(get("books", partner=partner.pk))
    assert rows[0] == ["Book", "ISBN", "Copies sold", "Revenue at retail", "Partners"]
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [
        ("Nana", "3", "32.00", "1"),  # 2 x 10.00 + 1 x 12.00
        ("Germinal", "1", "8.50", "1"),
    ]
    rows = read_csv(get("slow", days="30"))
    assert rows[0][:4] == ["Partner", "Book", "ISBN", "Copies held"]
    # Everything delivered in early 2025 and unsold since is slow: by oldest delivery, then
    # by partner and book (Nana came into the catalogue first).
    assert [(r[0], r[1], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("Alice Livres", "Nana", "7", "84.00", "2025-01-07", "2025-02-15"),
        ("Bob Bouquins", "Nana", "1", "12.00", "2025-01-10", "2025-03-01"),
        ("Bob Bouquins", "L'Assommoir", "1", "9.00", "2025-01-10", "2025-01-31"),
        ("Alice Livres", "Germinal", "7", "59.50", "2025-02-18", "2025-01-20"),
    ]


def test_an_unknown_table_shows_the_page(admin_client, sales):
    response = admin_client.get(ANALYTICS, {"table": "secrets", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_order_desk_links_to_the_page(admin_client):
    assert ANALYTICS in admin_client.get(reverse("admin:index")).text


@pytest.mark.parametrize("role", ["anonymous", "partner"])
def test_only_admins_reach_the_page_and_its_csv(client, partner, role):
    if role == "partner":
        client.force_login(partner.user)
    for params in ({}, {"table": "months", "format": "csv"}):
        response = client.get(ANALYTICS, params)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# -- queries ------------------------------------------------------------------------------------


def _grow(admin, first: int, n: int) -> None:
    """n more partners, each with a delivery of two books and a report, long enough ago for
    their unsold copies to be slow movers."""
    when = timezone.now() - timedelta(days=200)
    books = [BookFactory(), BookFactory()]
    for i in range(first, first + n):
        partner = PartnerFactory(user=UserFactory(email=f"shop{i}@example.com"))
        deliver(partner, admin, (books[0], 3), (books[1], 2), placed=when)
        report(partner, (books[0], 1), at=when + timedelta(days=5))


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(ANALYTICS)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_number_of_queries_with_more_data(admin_client):
    admin = AdminUserFactory()
    _grow(admin, 0, 1)
    _queries(admin_client)  # the month's first read rolls the trailing twelve months
    small = _queries(admin_client)
    _grow(admin, 1, 8)
    assert _queries(admin_client) == small
    assert small <= 12
