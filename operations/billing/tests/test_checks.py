import io
from decimal import Decimal

import pytest
from django.db import connection

from operations.billing.checks import billing_violations
from operations.billing.models import Allocation, BillingDocument, BillingLine
from operations.billing.tests.factories import credited_report, invoiced_report
from operations.models import ReferenceCounter
from operations.tests.factories import submit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(partner, other_partner, admin_user):
    """Two invoices, one credited, and a nothing-sold report."""
    _report, invoice = invoiced_report(partner, ("9.99", 3), ("12.45", 2))
    submit_report(partner)
    _report, credited, credit_note = credited_report(other_partner, admin_user, ("10.00", 1))
    return invoice, credited, credit_note


def raw_update(model, pk, **values):
    """Damage a row behind the ORM's back, as a stray SQL statement would."""
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(k)} = %s" for k in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), pk])


def raw_delete(model, **where):
    table = connection.ops.quote_name(model._meta.db_table)
    column, value = next(iter(where.items()))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {connection.ops.quote_name(column)} = %s", [value]
        )


def test_a_sound_ledger_has_no_billing_violation(ledger):
    assert billing_violations() == []


def test_an_empty_database_has_no_billing_violation(db):
    assert billing_violations() == []


def test_a_report_without_its_invoice_is_named(ledger):
    invoice, *_ = ledger
    raw_delete(BillingLine, document_id=invoice.pk)
    raw_delete(BillingDocument, id=invoice.pk)
    problems = billing_violations()
    assert any(f"Report {invoice.report_id}" in p and "0 invoices" in p for p in problems)
    assert any("FAC-" in p and "missing [1]" in p for p in problems)


def test_an_invoice_whose_total_differs_from_its_report_and_lines_is_named(ledger):
    invoice, *_ = ledger
    raw_update(
        BillingDocument,
        invoice.pk,
        total_incl_vat=invoice.total_incl_vat + 1,
        total_excl_vat=invoice.total_excl_vat + 1,
    )
    problems = billing_violations()
    assert any(f"Invoice {invoice.pk}" in p and "comes to" in p for p in problems)
    assert any(f"Document {invoice.pk}" in p and "total_incl_vat" in p for p in problems)


def test_a_voided_report_without_credit_note_and_a_wrong_credit_are_named(ledger):
    _invoice, credited, credit_note = ledger
    raw_update(
        BillingDocument,
        credit_note.pk,
        total_incl_vat=Decimal("1.00"),
        total_excl_vat=Decimal("1.00"),
        total_vat=Decimal("0.00"),
    )
    problems = billing_violations()
    assert any(f"Credit note {credit_note.pk}" in p and "credits 1.00" in p for p in problems)
    raw_delete(Allocation, credit_note_id=credit_note.pk)
    raw_delete(BillingLine, document_id=credit_note.pk)
    raw_delete(BillingDocument, id=credit_note.pk)
    problems = billing_violations()
    assert any(f"invoice {credited.pk}" in p and "0 credit notes" in p for p in problems)


def test_a_gap_in_the_numbers_is_named(ledger):
    _invoice, credited, _credit = ledger
    raw_update(BillingDocument, credited.pk, sequence=5)
    problems = billing_violations()
    assert any("missing [2, 3, 4]" in p for p in problems)
    # A duplicate cannot even be written: the database refuses it (unique constraint).


def test_a_counter_out_of_step_is_named(ledger):
    ReferenceCounter.objects.filter(prefix="AVO").update(last_value=7)
    assert any("AVO-" in p and "counter says 7" in p for p in billing_violations())


def test_ledger_check_reports_the_billing_violations(ledger):
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "invoices and credit notes" in out.getvalue()
    invoice, *_ = ledger
    raw_delete(BillingLine, document_id=invoice.pk)
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=(out := io.StringIO()))
    assert f"[billing] Document {invoice.pk} ({invoice.number}) has no lines." in out.getvalue()


def test_a_later_number_with_an_earlier_date_is_named(ledger):
    invoice, credited, _credit = ledger
    raw_update(BillingDocument, credited.pk, issue_date=invoice.issue_date.replace(year=2000))
    assert any(f"Document {credited.pk}" in p and "before" in p for p in billing_violations())
