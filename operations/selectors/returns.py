"""Returns: one of the partner's returns by id, the recalls and returns still open, the
copies a received return left short, and the titles the partner could send back."""

from datetime import timedelta

from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Partner
from operations.models import Item, Kind, Operation, Status
from operations.selectors.stock import stock_for_partner


def return_get_for_partner(*, partner: Partner, pk) -> Operation:
    """One of the partner's returns, or 404."""
    ret = get_object_or_404(
        Operation.objects.returns().select_related(
            "partner", "created_by", "shipped_by", "received_by", "closed_by"
        ),
        partner=partner,
        pk=pk,
    )
    return ret


def open_recalls_for_partner(*, partner: Partner) -> list[Operation]:
    """Recalls the partner has yet to ship: the first thing to do on its dashboard."""
    return list(
        Operation.objects.filter(
            partner=partner, kind=Kind.RETURN, status=Status.RECALLED
        ).order_by("created_at", "pk")
    )


def open_returns_for_partner(*, partner: Partner) -> list[Operation]:
    return list(Operation.objects.open_returns().filter(partner=partner).order_by("created_at"))


def return_shortfalls_for_partner(*, partner: Partner, book_ids=None) -> dict[int, list[dict]]:
    """{book_id: [{"reference", "missing"}]}: copies listed on a received return that did not
    reach the publisher; they are still the partner's stock. `book_ids`: only those books."""
    items = Item.objects.filter(
        operation__partner=partner,
        operation__kind=Kind.RETURN,
        operation__status=Status.RECEIVED,
        quantity__gt=-F("requested"),
    )
    if book_ids is not None:
        items = items.filter(book_id__in=list(book_ids))
    rows = items.values_list("book_id", "operation__reference", "requested", "quantity").order_by(
        "operation__created_at"
    )
    found: dict[int, list[dict]] = {}
    for book_id, reference, requested, quantity in rows:
        found.setdefault(book_id, []).append(
            {"reference": reference, "missing": requested + quantity}
        )
    return found


def return_candidates(*, partner: Partner, months: int) -> list[dict]:
    """The titles the partner could send back (copies held and not yet in a return), those
    with no sale (nor delivery) for `months` months first, the longest on the shelf first."""
    now = timezone.now()
    limit = now - timedelta(days=round(months * 30.44))
    rows = []
    for row in stock_for_partner(partner=partner):
        if row["free"] <= 0:
            continue
        since = row["last_sale_at"] or row["last_delivery_at"]
        rows.append(
            {
                **row,
                "shelf_since": since,
                "shelf_months": int((now - since).days / 30.44) if since else None,
                "suggested": since is not None and since < limit,
            }
        )
    rows.sort(key=lambda r: (not r["suggested"], r["shelf_since"] or now, r["book__title"]))
    return rows
