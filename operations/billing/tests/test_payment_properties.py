"""Property: whatever invoices (reports), credit notes (voids), payments, cancellations and
applications of credit happen, in any order, balance == Σ open amounts − credit, no amount
is negative, and ledger_check finds nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory, PartnerFactory
from catalog.tests.factories import BookFactory
from operations import services
from operations.billing.account import account_lines, account_summary
from operations.billing.models import BillingDocument
from operations.billing.payment_services import payment_allocate, payment_cancel, payment_record
from operations.billing.payments import Allocation, Payment
from operations.ledger import check_ledger
from operations.tests.factories import delivered_order, lines_of

PRICES = ["9.99", "12.50", "20.00"]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("report"), st.integers(0, len(PRICES) - 1), st.integers(1, 3)),
        st.tuples(st.just("void"), st.integers(0, 5), st.just(0)),
        st.tuples(st.just("pay"), st.integers(1, 4000), st.integers(0, 1)),
        st.tuples(st.just("pay_again"), st.just(0), st.just(0)),
        st.tuples(st.just("cancel"), st.integers(0, 5), st.just(0)),
        st.tuples(st.just("allocate"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions)
def test_balance_is_open_invoices_less_credit_for_any_sequence(steps):
    try:
        with transaction.atomic():
            _run(steps)
            raise _Rollback
    except _Rollback:
        pass


def _run(steps):
    admin = AdminUserFactory()
    partner = PartnerFactory()
    books = [BookFactory(price=Decimal(price)) for price in PRICES]
    delivered_order(partner, *[(book, 40) for book in books], admin=admin)
    recorded = []
    payments = []
    today = timezone.localdate()
    for tick, (action, a, b) in enumerate(steps):
        try:
            if action == "report":
                report = services.report_submit(
                    partner=partner, lines=lines_of((books[a], b)), by=partner.user
                )
                recorded.append(report)
            elif action == "void" and recorded:
                report = recorded.pop(a % len(recorded))
                services.report_void(report=report, by=admin, reason="typo")
            elif action == "pay":
                payment = payment_record(
                    partner=partner,
                    amount=Decimal(a) / 100,
                    received_on=today,
                    method="transfer",
                    reference=f"P{tick}",
                    by=admin,
                )
                payments.append(payment)
            elif action == "pay_again" and payments:
                last = payments[-1]
                with pytest.raises(ValidationError, match="already recorded"):
                    payment_record(
                        partner=partner,
                        amount=last.amount,
                        received_on=last.received_on,
                        method="cash",
                        reference=last.reference,
                        by=admin,
                    )
                last.refresh_from_db()
                assert not last.is_cancelled  # only live payments are tried again
            elif action == "cancel" and payments:
                payment = payments.pop(a % len(payments))
                payment_cancel(payment=payment, reason="bounced", by=admin)
            elif action == "allocate":
                payment_allocate(partner=partner, by=admin)
        except ValidationError as refused:
            assert action == "allocate", (action, refused)
        summary = account_summary(partner=partner)
        assert summary.balance == summary.open_total - summary.credit
        assert summary.credit >= 0
        assert all(invoice.open_amount >= 0 for invoice in summary.open_invoices)
        assert not Allocation.objects.filter(amount__lte=0).exists()
        assert not Allocation.objects.filter(payment__cancelled_at__isnull=False).exists()
        assert account_lines(partner).closing == summary.balance
    assert Payment.objects.filter(amount__lte=0).count() == 0
    assert BillingDocument.objects.filter(total_incl_vat__lt=0).count() == 0
    assert check_ledger() == []
