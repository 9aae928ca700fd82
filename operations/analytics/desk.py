"""What waits for an admin: the partners owing a sales report, and the order desk's counts."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery

from accounts.models import Partner
from operations.lifecycle import OPEN_ORDER_STATUSES, OPEN_RETURN_STATUSES
from operations.models import Kind, Operation, Status
from operations.models.ledger import RULE_2_EVENTS


def partners_awaiting_report() -> QuerySet:
    """Partners with a delivery that no recorded sales report follows (rule 2), longest
    waiting first.

    A partner awaits a report exactly when its last event of rule 2 (in event order: a
    delivery or a recorded report) is a delivery: a report that follows the last delivery
    follows every earlier one too. That event and its kind are one probe of a partial index
    (`op_partner_rule_2_seq`), read from the index alone, so the cost grows with the
    partners, never with their history.
    """
    last = Operation.objects.filter(RULE_2_EVENTS, partner=OuterRef("pk")).order_by("-counted_seq")
    return (
        Partner.objects.annotate(last_event_kind=Subquery(last.values("kind")[:1]))
        .filter(last_event_kind=Kind.ORDER)
        .annotate(last_delivery_at=Subquery(last.values("delivered_at")[:1]))
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
