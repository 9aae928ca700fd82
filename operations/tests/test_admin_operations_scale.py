"""The operations list, its search, date filter and paginator, and the admin index, as the
ledger grows: bounded queries, no join to the items, no full count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations import admin_list
from operations.management.commands.benchmark import build_ledger
from operations.models import Operation
from operations.services import report_void
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:operations_operation_changelist")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", isbn="9782070368228", price=Decimal("12.50"))


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def operation_sql(queries) -> list[str]:
    return [q["sql"] for q in queries if '"operations_operation"' in q["sql"]]


# -- search ---------------------------------------------------------------------------------


def test_the_search_finds_a_reference_a_partner_and_an_isbn(admin_client, partner, book):
    other = BookFactory(title="Germinal", isbn="9782070360024")
    order = delivered_order(partner, (book, 2))
    report = submit_report(partner, (book, 1))
    unrelated = place_order(partner, (other, 1))

    assert listed(admin_client, q=order.reference.lower()) == [order]
    assert listed(admin_client, q=order.reference[:8]) == [unrelated, order]  # "ORD-2026"
    assert listed(admin_client, q="alice livres") == [unrelated, report, order]
    assert listed(admin_client, q="alice@example") == [unrelated, report, order]
    assert listed(admin_client, q="978-2-07-036822-8") == [report, order]
    assert listed(admin_client, q="9782070368228") == [report, order]
    assert listed(admin_client, q="Nobody at all") == []


def test_a_title_is_found_through_the_book_filter(admin_client, partner, book):
    other = BookFactory(title="Germinal", isbn="9782070360024")
    order = delivered_order(partner, (book, 2), (other, 1))
    report = submit_report(partner, (book, 1))

    assert listed(admin_client, book="misérables") == [report, order]
    assert listed(admin_client, book="Germinal") == [order]  # once, though two lines match
    assert listed(admin_client, book="9782070360024") == [order]
    assert listed(admin_client, book="No such title") == []
    response = admin_client.get(CHANGELIST, {"book": "Germinal", "kind__exact": "order"})
    assert 'name="book" value="Germinal"' in response.text
    assert '<input type="hidden" name="kind__exact" value="order">' in response.text


def test_the_common_search_never_joins_the_items(admin_client, partner, book):
    order = delivered_order(partner, (book, 2))
    for term in ("Alice Livres", order.reference):
        with CaptureQueriesContext(connection) as queries:
            assert listed(admin_client, q=term) == [order]
        sql = operation_sql(queries)
        assert len(sql) == 2  # the bounded count and the page
        for statement in sql:
            assert "operations_item" not in statement
            assert "DISTINCT" not in statement.upper()
            # A whole reference is one probe of the unique index; a name reads no reference.
            if term == order.reference:
                assert '"operations_operation"."reference" = ' in statement
            else:
                assert '"operations_operation"."reference"' not in statement.split("WHERE")[1]


def test_an_isbn_search_reads_the_items_in_a_subquery_without_join_or_distinct(
    admin_client, partner, book
):
    order = delivered_order(partner, (book, 2))
    with CaptureQueriesContext(connection) as queries:
        assert listed(admin_client, q=book.isbn) == [order]
    for statement in operation_sql(queries):
        assert '"operations_item"' in statement
        assert "JOIN" not in statement.upper().split("FROM", 1)[1].split("WHERE", 1)[0] or (
            '"operations_item"' not in statement.upper().split("WHERE", 1)[0]
        )
        assert " IN (SELECT" in statement
        assert "DISTINCT" not in statement.upper()


def test_common_books_are_walked_with_exists_and_counted_less_far(
    admin_client, partner, book, monkeypatch
):
    """Past RARE_LINES lines the filter walks the operations (EXISTS) instead of reading
    every line, lists the same operations, and counts at most COMMON_COUNT_LIMIT."""
    other = BookFactory(title="Germinal", isbn="9782070360024")
    order = delivered_order(partner, (book, 3), (other, 1))
    report = submit_report(partner, (book, 1))
    second = delivered_order(partner, (book, 1))
    rare = listed(admin_client, book="misérables")
    assert rare == [second, report, order]

    monkeypatch.setattr(admin_list, "RARE_LINES", 1)
    monkeypatch.setattr(admin_list, "COMMON_COUNT_LIMIT", 2)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST, {"book": "misérables"})
    changelist = response.context["cl"]
    assert list(changelist.result_list) == rare
    assert changelist.result_count == 2 and changelist.paginator.capped
    assert "More than 2 operations" in response.text
    for statement in operation_sql(queries):
        assert "EXISTS" in statement.upper()
        assert " IN (SELECT" not in statement
        assert "DISTINCT" not in statement.upper()
    monkeypatch.setattr(admin_list, "COMMON_COUNT_LIMIT", 10)
    assert listed(admin_client, book="misérables") == rare
    # The plain list keeps its own limit.
    assert admin_client.get(CHANGELIST).context["cl"].paginator.limit is None


def test_the_partner_filter_lists_no_partners_and_keeps_its_parameter(
    admin_client, partner, other_partner, book
):
    mine = place_order(partner, (book, 1))
    place_order(other_partner, (book, 1))
    response = admin_client.get(CHANGELIST, {"partner__id__exact": partner.pk})
    assert list(response.context["cl"].result_list) == [mine]
    sidebar = response.text.split('id="changelist-filter"', 1)[1]
    # Only the partner picked is named in the filter (the picker looks others up as typed).
    assert f'<option value="{partner.pk}" selected>' in sidebar
    assert "Bob Bouquins" not in sidebar
    assert "admin-autocomplete" in sidebar and "select2" in response.text
    assert (
        "Alice Livres"
        not in admin_client.get(CHANGELIST).text.split('id="changelist-filter"', 1)[1]
    )
    for value in ("abc", "-1", "99999999999999999999999", "1 OR 1=1"):
        assert admin_client.get(CHANGELIST, {"partner__id__exact": value}).status_code in (
            200,
            302,
        )


def test_the_partner_picker_of_the_stock_and_sales_pages(admin_client, partner, other_partner):
    for name in ("operations_stock", "operations_analytics"):
        url = reverse(f"admin:{name}")
        response = admin_client.get(url, {"partner": partner.pk})
        assert response.status_code == 200
        assert f'<option value="{partner.pk}" selected>Alice Livres' in response.text
        assert "Bob Bouquins</option>" not in response.text
        for value in ("abc", "99999999999999999999999", "-5"):
            assert admin_client.get(url, {"partner": value}).status_code == 200
    # The picker's lookups: the admin's autocomplete, over the partners' search fields.
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "bob",
            "app_label": "operations",
            "model_name": "operation",
            "field_name": "partner",
        },
    ).json()
    assert [row["id"] for row in found["results"]] == [str(other_partner.pk)]


# -- date filter and paginator --------------------------------------------------------------


def test_the_date_filter_is_a_range_on_created_at(admin_client, partner, book):
    recent = place_order(partner, (book, 1))
    older = submit_report(partner)
    Operation.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=45))
    last_year = timezone.now().replace(year=timezone.now().year - 1, month=6, day=15)
    oldest = submit_report(partner)
    Operation.objects.filter(pk=oldest.pk).update(created_at=last_year)

    response = admin_client.get(CHANGELIST)
    links = {c["display"]: c["query_string"] for c in _created_choices(response)}
    assert list(links) == [
        "Any date",
        "Today",
        "Past 7 days",
        "Past 30 days",
        "This month",
        "This year",
        "Last year",
    ]
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST + links["Past 30 days"])
    assert list(response.context["cl"].result_list) == [recent]
    for statement in operation_sql(queries):
        assert '"operations_operation"."created_at" >= ' in statement
        assert "django_datetime" not in statement and "date_trunc" not in statement.lower()
    response = admin_client.get(CHANGELIST + links["Last year"])
    assert list(response.context["cl"].result_list) == [oldest]


def _created_choices(response):
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "field_path", None) == "created_at":
            return list(spec.choices(response.context["cl"]))
    raise AssertionError("no date filter")


def test_the_list_counts_no_further_than_its_limit(admin_client, partner, book, monkeypatch):
    monkeypatch.setattr(admin_list, "COUNT_LIMIT", 3)
    place_order(partner, (book, 1))
    for _ in range(4):
        submit_report(partner)
    response = admin_client.get(CHANGELIST)
    changelist = response.context["cl"]
    assert changelist.result_count == 3 and changelist.paginator.capped
    assert "More than 3 operations: the filters narrow the list." in response.text

    response = admin_client.get(CHANGELIST, {"kind__exact": "order"})
    assert response.context["cl"].result_count == 1
    assert not response.context["cl"].paginator.capped
    assert "1 operation" in response.text


# -- query counts do not grow with the ledger -----------------------------------------------

PAGES = {
    "list": (CHANGELIST, {}),
    "list, search by partner": (CHANGELIST, {"q": "Bench store 1"}),
    "list, search by reference": (CHANGELIST, {"q": "ORD-2026-00001"}),
    "list, book filter": (CHANGELIST, {"book": "Bench title 1"}),
    "list, status and date": (
        CHANGELIST,
        {"status__exact": "delivered", "created_at__gte": "2000-01-01 00:00:00+00:00"},
    ),
    "admin index": (reverse("admin:index"), {}),
}


def _queries_per_page(client) -> dict:
    counts = {}
    for label, (url, params) in PAGES.items():
        client.get(url, params)  # warm up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, label
        counts[label] = len(queries)
    return counts


# The same at every size of the ledger (and within the page budget of 12).
EXPECTED_QUERIES = {
    "list": 5,
    "list, search by partner": 6,
    "list, search by reference": 6,
    "list, book filter": 7,  # with the probe of the books' lines
    "list, status and date": 5,
    "admin index": 7,
}


@pytest.mark.parametrize(
    ("size", "ledger"),
    [(10, (5, 10, 1, 2)), (500, (25, 40, 10, 2))],  # partners x cycles x (delivery + report)
)
def test_queries_are_the_same_at_10_and_500_operations(client, size, ledger):
    data = build_ledger(*ledger)
    assert Operation.objects.count() == size
    client.force_login(data["admin"])
    assert _queries_per_page(client) == EXPECTED_QUERIES


# -- the order desk -------------------------------------------------------------------------


def test_a_voided_report_puts_the_partner_back_among_those_owing_one(
    admin_client, admin_user, partner, book
):
    from operations.analytics import order_desk, partners_awaiting_report

    delivered_order(partner, (book, 3))
    assert list(partners_awaiting_report()) == [partner]
    report = submit_report(partner, (book, 1))
    assert list(partners_awaiting_report()) == []
    report_void(report=report, by=admin_user, reason="typo")
    awaiting = list(partners_awaiting_report())
    assert awaiting == [partner]
    assert awaiting[0].last_delivery_at is not None
    assert order_desk().awaiting_report == 1


def test_the_order_desk_reads_the_open_operations_through_the_index(admin_client, partner, book):
    place_order(partner, (book, 1))
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(reverse("admin:index"))
    desk = [
        q["sql"]
        for q in queries
        if "GROUP BY" in q["sql"] and q["sql"].startswith('SELECT "operations_operation"."kind"')
    ]
    assert len(desk) == 1
    assert '"operations_operation"."kind" IN (' in desk[0]
    assert '"operations_operation"."status" IN (' in desk[0]
