"""An invoice or credit note is never changed nor deleted, whichever way one tries."""

import pytest
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from operations.billing.models import (
    BillingDocument,
    BillingLine,
    CreditNote,
    ImmutableError,
    Invoice,
)
from operations.billing.tests.factories import credited_report, invoiced_report
from operations.services import operation_delete_refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(partner):
    return invoiced_report(partner, ("10.00", 2))[1]


def test_saving_an_issued_invoice_again_is_refused(invoice):
    invoice.total_incl_vat += 1
    with pytest.raises(ImmutableError):
        invoice.save()
    assert Invoice.objects.get(pk=invoice.pk).total_incl_vat == invoice.total_incl_vat - 1


def test_deleting_an_invoice_is_refused(invoice):
    with pytest.raises(ImmutableError):
        invoice.delete()


@pytest.mark.parametrize("manager", [Invoice.objects, BillingDocument.objects])
def test_querysets_refuse_update_and_delete(invoice, manager):
    with pytest.raises(ImmutableError):
        manager.filter(pk=invoice.pk).update(buyer_name="Changed")
    with pytest.raises(ImmutableError):
        manager.all().delete()
    with pytest.raises(ImmutableError):
        manager.bulk_update([invoice], ["buyer_name"])
    assert Invoice.objects.get(pk=invoice.pk).buyer_name == invoice.buyer_name


def test_lines_refuse_save_update_and_delete(invoice):
    line = invoice.lines.get()
    line.copies = 99
    with pytest.raises(ImmutableError):
        line.save()
    with pytest.raises(ImmutableError):
        line.delete()
    with pytest.raises(ImmutableError):
        BillingLine.objects.update(copies=1)
    with pytest.raises(ImmutableError):
        invoice.lines.all().delete()
    assert BillingLine.objects.get(pk=line.pk).copies == 2


def test_credit_notes_are_as_immutable(partner, admin_user):
    _report, _invoice, credit_note = credited_report(partner, admin_user, ("10.00", 1))
    with pytest.raises(ImmutableError):
        credit_note.save()
    with pytest.raises(ImmutableError):
        CreditNote.objects.all().delete()


def test_the_report_and_the_partner_of_an_invoice_cannot_be_deleted(partner, admin_user):
    # A voided report no longer counts in stock: only its invoice protects it now.
    report, invoice, _credit = credited_report(partner, admin_user, ("10.00", 1))
    with pytest.raises(ProtectedError):
        report.delete()
    with pytest.raises(ProtectedError):
        partner.delete()
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_a_voided_report_with_an_invoice_is_refused_deletion_with_a_reason(partner, admin_user):
    report, _invoice, _credit = credited_report(partner, admin_user, ("10.00", 1))
    assert "has an invoice" in operation_delete_refusal(report)


@pytest.mark.parametrize("model", ["invoice", "creditnote"])
def test_the_admin_cannot_add_change_or_delete(admin_client, partner, admin_user, model):
    _report, invoice, credit_note = credited_report(partner, admin_user, ("10.00", 1))
    document = invoice if model == "invoice" else credit_note
    change = reverse(f"admin:operations_{model}_change", args=[document.pk])
    response = admin_client.get(change)
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    response = admin_client.post(change, {"buyer_name": "Changed"})
    assert response.status_code == 403
    delete = reverse(f"admin:operations_{model}_delete", args=[document.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse(f"admin:operations_{model}_add")).status_code == 403
    changelist = reverse(f"admin:operations_{model}_changelist")
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"}
    )
    assert BillingDocument.objects.filter(pk=document.pk, buyer_name=document.buyer_name).exists()
