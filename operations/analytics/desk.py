"""What waits for an admin: the partners owing a sales report, and the order desk's counts."""

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Partner
from operations.lifecycle import OPEN_ORDER_STATUSES, OPEN_RETURN_STATUSES
from operations.models import Kind, Operation, Status


def partners_awaiting_report() -> QuerySet:
    """Partners with a delivery that no recorded sales report follows (rule 2), longest
    waiting first.

    A partner awaits a report exactly when its last delivery (in event order) comes after
    its last recorded report: a report that follows the last delivery follows every earlier
    one too. Each "last" is one probe of the (partner, kind, status, counted_seq) index, so
    the cost grows with the partners, never with their history.
    """
    mine = Operation.objects.filter(partner=OuterRef("pk")).order_by("-counted_seq")
    last_delivery = mine.filter(kind=Kind.ORDER, status=Status.DELIVERED)
    last_report = mine.filter(kind=Kind.REPORT, status=Status.RECORDED)
    return (
        Partner.objects.annotate(
            last_delivery_seq=Subquery(last_delivery.values("counted_seq")[:1]),
            last_report_seq=Coalesce(Subquery(last_report.values("counted_seq")[:1]), 0),
        )
        .filter(last_delivery_seq__gt=F("last_report_seq"))
        .annotate(last_delivery_at=Subquery(last_delivery.values("delivered_at")[:1]))
        .order_by("last_delivery_at", "pk")
    )


@dataclass(frozen=True)
class OrderDesk:
    pending: int
    approved: int
    awaiting_report: int
    returns_requested: int = 0
    returns_to_receive: int = 0
    recalls_waiting: int = 0


def order_desk() -> OrderDesk:
    """How many orders wait for approval, for delivery, partners owing a report, and
    returns to accept, to receive or waiting for the partner to ship."""
    # Two IN lists rather than an OR of pairs: the (kind, status, created_at) index is then
    # sought for each pair, not scanned whole; only the pairs below are read.
    open_ops = Operation.objects.filter(
        kind__in=[Kind.ORDER, Kind.RETURN],
        status__in=[*OPEN_ORDER_STATUSES, *OPEN_RETURN_STATUSES],
    )
    counts = open_ops.values("kind", "status").annotate(n=Count("pk")).order_by()
    by_status = {(row["kind"], row["status"]): row["n"] for row in counts}
    return OrderDesk(
        pending=by_status.get((Kind.ORDER, Status.PENDING), 0),
        approved=by_status.get((Kind.ORDER, Status.APPROVED), 0),
        # A suspended partner cannot report: nothing to act on until it is reactivated.
        awaiting_report=partners_awaiting_report().filter(suspended_at__isnull=True).count(),
        returns_requested=by_status.get((Kind.RETURN, Status.REQUESTED), 0),
        returns_to_receive=by_status.get((Kind.RETURN, Status.SHIPPED), 0),
        recalls_waiting=by_status.get((Kind.RETURN, Status.RECALLED), 0),
    )
