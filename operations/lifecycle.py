"""The state table: one row per kind of operation.

Each kind declares its reference prefix, the statuses it starts in, the transitions it
allows, the statuses in which its items count in stock (and with which sign), and the words
that refuse a transition. The database constraints, `Operation.can_become`, the
`counts_in_stock` flag and the refusal messages all derive from this table: a new kind is a
new row plus its services.
"""

import operator
from dataclasses import dataclass, field
from functools import reduce

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ORDER = "order", _("Order")
    REPORT = "report", _("Sales report")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")
    RECORDED = "recorded", _("Recorded")
    VOIDED = "voided", _("Voided")


@dataclass(frozen=True)
class KindSpec:
    prefix: str  # reference prefix: ORD-2026-00042
    sign: int  # +1: its items add copies to the partner's stock; -1: they take copies away
    initial: frozenset  # statuses a new operation of this kind is written in
    transitions: dict  # status -> {status it may become: words refusing it from elsewhere}
    counting: frozenset  # statuses in which its items count in stock
    open: frozenset = field(default_factory=frozenset)  # statuses that make it "open"
    needs_reason: frozenset = field(default_factory=frozenset)  # statuses that need a reason

    @property
    def statuses(self) -> frozenset:
        found = set(self.initial)
        for source, targets in self.transitions.items():
            found.add(source)
            found.update(targets)
        return frozenset(found)

    def targets(self, status: str) -> set:
        return set(self.transitions.get(status, {}))

    def refusal(self, to: str):
        for targets in self.transitions.values():
            if to in targets:
                return targets[to]
        return None


_ONLY_PENDING_APPROVED = _("%(ref)s is %(status)s: only a pending order can be approved.")
_ONLY_APPROVED_DELIVERED = _("%(ref)s is %(status)s: only an approved order can be delivered.")
_ONLY_PENDING_CANCELLED = _("%(ref)s is %(status)s: only a pending order can be cancelled.")
_ONLY_OPEN_REJECTED = _("%(ref)s is %(status)s: only a pending or approved order can be rejected.")
_ONLY_RECORDED_VOIDED = _("%(ref)s is %(status)s: only a recorded sales report can be voided.")

STATES: dict[str, KindSpec] = {
    Kind.ORDER: KindSpec(
        prefix="ORD",
        sign=+1,
        initial=frozenset({Status.PENDING}),
        transitions={
            Status.PENDING: {
                Status.APPROVED: _ONLY_PENDING_APPROVED,
                Status.CANCELLED: _ONLY_PENDING_CANCELLED,
                Status.REJECTED: _ONLY_OPEN_REJECTED,
            },
            Status.APPROVED: {
                Status.DELIVERED: _ONLY_APPROVED_DELIVERED,
                Status.REJECTED: _ONLY_OPEN_REJECTED,
            },
        },
        counting=frozenset({Status.DELIVERED}),
        open=frozenset({Status.PENDING, Status.APPROVED}),
        needs_reason=frozenset({Status.REJECTED}),
    ),
    Kind.REPORT: KindSpec(
        prefix="REP",
        sign=-1,
        initial=frozenset({Status.RECORDED}),
        transitions={Status.RECORDED: {Status.VOIDED: _ONLY_RECORDED_VOIDED}},
        counting=frozenset({Status.RECORDED}),
        needs_reason=frozenset({Status.VOIDED}),
    ),
}

REFERENCE_PREFIXES = {kind: spec.prefix for kind, spec in STATES.items()}


def _sorted(statuses) -> list[str]:
    """In the order Status declares them (stable constraints, readable migrations)."""
    return [s.value for s in Status if s in statuses]


OPEN_ORDER_STATUSES = tuple(_sorted(STATES[Kind.ORDER].open))


def _any_of(per_kind: dict) -> models.Q:
    return reduce(
        operator.or_,
        (
            models.Q(kind=kind, status__in=_sorted(statuses))
            for kind, statuses in per_kind.items()
            if statuses
        ),
    )


def counts_in_stock(kind: str, status: str) -> bool:
    return status in STATES[kind].counting


def can_become(kind: str, status: str, to: str) -> bool:
    spec = STATES.get(kind)
    return spec is not None and to in spec.targets(status)


def needs_reason(status: str) -> bool:
    return any(status in spec.needs_reason for spec in STATES.values())


# Conditions for the database constraints and the ledger's queries, derived from the table.
COUNTS_IN_STOCK = _any_of({kind: spec.counting for kind, spec in STATES.items()})
STATUS_FITS_KIND = _any_of({kind: spec.statuses for kind, spec in STATES.items()})
NEEDS_REASON = _sorted({s for spec in STATES.values() for s in spec.needs_reason})


def transition_refusal(*, kind: str, reference: str, status_label: str, to: str) -> str:
    """Why an operation in `status_label` cannot become `to`, in plain words."""
    # The kind's own words first; else those of the kind that has this step ("only a
    # recorded sales report can be voided", said of an order).
    specs = [STATES[kind]] if kind in STATES else []
    specs += [spec for other, spec in STATES.items() if other != kind]
    words = next((w for spec in specs if (w := spec.refusal(to)) is not None), None)
    if words is None:
        words = _("%(ref)s is %(status)s: this change is not allowed.")
    return words % {"ref": reference, "status": status_label.lower()}
