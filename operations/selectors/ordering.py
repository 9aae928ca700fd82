"""The ordering rule (rules 1 and 2) and the operations it looks at: the last recorded
report, the latest order, and the newest report, which guards the report form against a
second send."""

from accounts.models import Partner
from operations.models import Operation, OrderingState, Status


def last_report_for_partner(*, partner: Partner) -> Operation | None:
    return (
        Operation.objects.reports()
        .filter(partner=partner, status=Status.RECORDED)
        .order_by("-created_at", "-pk")
        .first()
    )


def ordering_state(*, partner: Partner, exclude_pk=None) -> OrderingState:
    """Rules 1 and 2 for `partner`, as the model states them (Operation.clean uses the same)."""
    return Operation.objects.ordering_state(partner=partner, exclude_pk=exclude_pk)


def newest_report_pk(*, partner: Partner) -> int:
    """Primary key of the partner's newest report (any status), 0 if none.

    A report form remembers it when shown: if it changed by the time the form comes back,
    the form was already sent (double click, back button, second tab).
    """
    pk = (
        Operation.objects.reports()
        .filter(partner=partner)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return pk or 0


def latest_order_for_partner(*, partner: Partner) -> Operation | None:
    """The partner's most recent order, whatever its status."""
    return (
        Operation.objects.orders()
        .filter(partner=partner)
        .select_related("approved_by", "delivered_by", "closed_by")
        .order_by("-created_at", "-pk")
        .first()
    )
