"""Bulk test data for the portal's query-count tests: hundreds of rows in a few queries.

Rows are written with bulk_create, bypassing the services, so each one is built to obey the
rules by hand: counts_in_stock is True exactly for delivered orders and recorded reports,
references are unique, reports come after the delivery they sell from and never sell more
than was delivered.
"""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import Book
from catalog.tests.factories import make_isbn
from operations.balances import balances_rebuild
from operations.models import Item, Kind, Operation, Status

_seq = itertools.count(1)


def grow_history(partner, n: int, *, admin) -> Operation:
    """Add n books, one delivered order of 5 copies of each, then n - 1 operations after it:
    recorded reports selling one copy, and cancelled orders. Returns the delivered order."""
    batch = next(_seq)
    start = timezone.now() - timedelta(days=300) + timedelta(days=batch)
    books = Book.objects.bulk_create(
        [
            Book(
                isbn=make_isbn(600000 + batch * 1000 + i),
                title=f"Titre {batch:02d}-{i:04d}",
                authors="Auteur Test",
                price=Decimal("10.00"),
            )
            for i in range(n)
        ]
    )
    user = partner.user
    delivered = Operation.objects.create(
        kind=Kind.ORDER,
        status=Status.DELIVERED,
        counts_in_stock=True,
        partner=partner,
        reference=f"BLK{batch:02d}-D",
        counted_seq=batch * 10000 + 1,
        created_at=start,
        created_by=user,
        approved_at=start,
        approved_by=admin,
        delivered_at=start + timedelta(minutes=1),
        delivered_by=admin,
    )
    Item.objects.bulk_create(
        [Item(operation=delivered, book=b, quantity=5, unit_price=b.price) for b in books]
    )
    later = []
    for i in range(n - 1):
        at = start + timedelta(minutes=2 + i)
        if i % 2 == 0:
            later.append(
                Operation(
                    kind=Kind.REPORT,
                    status=Status.RECORDED,
                    counts_in_stock=True,
                    partner=partner,
                    reference=f"BLK{batch:02d}-R{i:04d}",
                    counted_seq=batch * 10000 + 2 + i,
                    created_at=at,
                    created_by=user,
                )
            )
        else:
            later.append(
                Operation(
                    kind=Kind.ORDER,
                    status=Status.CANCELLED,
                    counts_in_stock=False,
                    partner=partner,
                    reference=f"BLK{batch:02d}-C{i:04d}",
                    created_at=at,
                    created_by=user,
                    closed_at=at,
                    closed_by=user,
                )
            )
    later = Operation.objects.bulk_create(later)
    items = []
    for i, op in enumerate(later):
        book = books[i % len(books)]
        quantity = -1 if op.kind == Kind.REPORT else 1
        items.append(Item(operation=op, book=book, quantity=quantity, unit_price=book.price))
    Item.objects.bulk_create(items)
    balances_rebuild(partner_ids=[partner.pk])
    return delivered


def query_count(client, url, **extra) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)
