"""A prepared query gives exactly the rows of its queryset, bound to each call's arguments,
and refuses to prepare a query whose SQL is not a function of those arguments alone."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import PartnerFactory
from catalog.tests.factories import BookFactory
from operations.models import Operation, StockBalance
from operations.tests.factories import delivered_order, place_order, submit_report
from toplivres.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def _operations(partner_id):
    return (
        Operation.objects.filter(partner_id=partner_id)
        .annotate(line_count=Count("items"), copies=Sum("items__quantity"))
        .select_related("partner__user", "approved_by")
        .order_by("created_at", "pk")
    )


def _stock(partner_id, book_id):
    return (
        StockBalance.objects.filter(Q(partner_id=partner_id) | Q(book_id=book_id))
        .values("partner_id", "book_id", "quantity")
        .annotate(double=F("quantity") * 2)
        .order_by("partner_id", "book_id")
    )


@pytest.fixture
def ledger():
    books = BookFactory.create_batch(3)
    partners = PartnerFactory.create_batch(2)
    for partner in partners:
        delivered_order(partner, (books[0], 4), (books[1], 2))
        submit_report(partner, (books[0], 1))
        place_order(partner, (books[2], 1))
    return partners, books


def test_model_rows_equal_the_querysets_for_each_argument(ledger):
    partners, _ = ledger
    prepared = PreparedQuery(_operations)
    for partner in [*partners, *partners]:  # compiled once, then bound to each in turn
        rows, expected = prepared(partner_id=partner.pk), list(_operations(partner.pk))
        assert [row.pk for row in rows] == [row.pk for row in expected]
        assert [(r.line_count, r.copies, r.status, r.created_at) for r in rows] == [
            (r.line_count, r.copies, r.status, r.created_at) for r in expected
        ]
        assert {row.partner.user.email for row in rows} == {partner.user.email}
        assert [row.approved_by for row in rows] == [row.approved_by for row in expected]


def test_values_rows_with_an_argument_used_twice(ledger):
    partners, books = ledger
    prepared = PreparedQuery(_stock)
    for partner, book in [(partners[0], books[1]), (partners[1], books[0])]:
        assert prepared(partner_id=partner.pk, book_id=book.pk) == list(_stock(partner.pk, book.pk))
    assert prepared(partner_id=-1, book_id=-1) == []


def test_one_query_per_call_and_no_compilation_after_the_first(ledger, monkeypatch):
    partners, _ = ledger
    prepared = PreparedQuery(_operations)
    prepared(partner_id=partners[0].pk)
    compiled = []
    from django.db.models.sql.compiler import SQLCompiler

    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    with CaptureQueriesContext(connection) as queries:
        prepared(partner_id=partners[1].pk)
    assert len(queries) == 1
    assert compiled == []


def test_a_thread_binds_to_its_own_connection(ledger):
    """Compiled in this thread, bound in another: Django refuses a connection used from a
    thread other than its own, so the call only succeeds on the thread's own connection."""
    from django.db import connections

    partners, _ = ledger
    prepared = PreparedQuery(_operations)
    assert prepared(partner_id=partners[0].pk)
    errors = []

    def read():
        try:
            prepared(partner_id=partners[0].pk)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert errors == []


def test_refuses_a_query_that_reads_the_clock_while_built(db):
    prepared = PreparedQuery(
        lambda partner_id: Operation.objects.filter(
            partner_id=partner_id, created_at__lt=timezone.now()
        )
    )
    with pytest.raises(ImproperlyConfigured, match="constant"):
        prepared(partner_id=1)


def test_refuses_an_argument_that_shapes_the_sql(db):
    prepared = PreparedQuery(lambda limit: Operation.objects.all()[: 10 - (limit % 7)])
    with pytest.raises(ImproperlyConfigured):
        prepared(limit=1)


def test_refuses_an_argument_it_ignores(db):
    prepared = PreparedQuery(lambda partner_id: Operation.objects.all())
    with pytest.raises(ImproperlyConfigured, match="ignores"):
        prepared(partner_id=1)


@pytest.mark.parametrize("value", ["1", 1.0, None, True])
def test_arguments_are_integers(db, value):
    with pytest.raises(TypeError):
        PreparedQuery(_operations)(partner_id=value)
