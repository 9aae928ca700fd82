"""The back office reads the audit log and never edits it; its own edits are audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, User
from accounts.services import audit_record, partner_reactivate, partner_suspend
from accounts.tests.test_admin_partners import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(partner, admin_user):
    return audit_record(
        action="partner.updated",
        actor=admin_user,
        obj=partner,
        before={"city": "Lyon"},
        after={"city": "Paris"},
    )


def test_the_audit_log_lists_and_filters_entries(admin_client, entry):
    url = reverse("admin:accounts_auditentry_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "partner.updated" in response.text
    assert admin_client.get(url, {"action": "partner.updated"}).status_code == 200
    assert admin_client.get(url, {"q": "Alice"}).status_code == 200
    assert "delete_selected" not in response.text


def test_an_audit_entry_is_shown_read_only_and_a_post_changes_nothing(admin_client, entry):
    url = reverse("admin:accounts_auditentry_change", args=[entry.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields
    assert 'name="_save"' not in page.text
    assert "Lyon" in page.text and "Paris" in page.text
    response = admin_client.post(url, {"action": "forged", "reason": "forged"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.action == "partner.updated" and entry.reason == ""


def test_an_audit_entry_cannot_be_added_or_deleted_from_the_admin(admin_client, entry):
    delete = reverse("admin:accounts_auditentry_delete", args=[entry.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    bulk = admin_client.post(
        reverse("admin:accounts_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_partner_change_form_saves_through_partner_update(admin_client, admin_user, partner):
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    partner_suspend(partner=partner, by=admin_user, reason="Late")
    partner_reactivate(partner=partner, by=admin_user)
    page = admin_client.get(url)
    data = change_form_data(page)
    data.update(commission_rate="30", city="Paris")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    [row] = AuditEntry.objects.filter(action="partner.updated", partner=partner)
    assert row.actor == admin_user
    assert set(row.after) == {"commission_rate", "city"}
    assert Decimal(row.after["commission_rate"]) == Decimal("30")
    partner.refresh_from_db()
    assert partner.city == "Paris" and partner.commission_rate == Decimal("30")


def test_the_partner_change_page_shows_its_history_and_suspensions(
    admin_client, admin_user, suspended_partner
):
    partner_reactivate(partner=suspended_partner, by=admin_user, reason="Paid at last")
    url = reverse("admin:accounts_partner_change", args=[suspended_partner.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Unpaid invoices" in page.text and "Paid at last" in page.text
    assert "partner.reactivated" in page.text  # the history inline
    [inline] = page.context["inline_admin_formsets"]
    assert not inline.has_add_permission and not inline.has_change_permission


def test_a_team_member_edited_in_the_admin_is_audited(admin_client, admin_user):
    desk = User.objects.create_user(
        "desk@example.com", "pw-unused-123", role=User.Role.ADMIN, full_name="Desk"
    )
    url = reverse("admin:accounts_user_change", args=[desk.pk])
    page = admin_client.get(url)
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.pop("password", None)
    data.update(
        full_name="Desk Two",
        is_active="on",
        is_staff="on",
        date_joined_0="2026-01-01",
        date_joined_1="10:00:00",
    )
    data.pop("is_superuser", None)
    data.pop("date_joined", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [row] = AuditEntry.objects.filter(action="user.updated", object_id=desk.pk)
    assert row.actor == admin_user
    assert row.before["full_name"] == "Desk" and row.after["full_name"] == "Desk Two"
    assert set(row.after) == {"full_name"}


def test_a_password_set_in_the_admin_is_audited_as_a_fact_only(admin_client, admin_user):
    desk = User.objects.create_user("desk@example.com", "old-pass-123", role=User.Role.ADMIN)
    url = reverse("admin:auth_user_password_change", args=[desk.pk])
    response = admin_client.post(
        url,
        {"password1": "N3w-long-passphrase", "password2": "N3w-long-passphrase"},
    )
    assert response.status_code == 302
    [row] = AuditEntry.objects.filter(action="user.updated", object_id=desk.pk)
    assert set(row.after) == {"password"}
    assert "N3w" not in str(row.after) and "pbkdf2" not in str(row.after)
    assert "$" not in str(row.before) + str(row.after)


def test_a_team_member_added_in_the_admin_is_audited(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "full_name": "New",
            "language": "fr",
            "password1": "N3w-long-passphrase",
            "password2": "N3w-long-passphrase",
        },
    )
    assert response.status_code == 302
    [row] = AuditEntry.objects.filter(action="user.created")
    assert row.after["email"] == "new@example.com" and row.actor == admin_user
    assert "N3w" not in str(row.after)


def test_history_written_while_the_partner_page_is_open_never_blocks_its_save(
    admin_client, admin_user, partner, monkeypatch
):
    from accounts.admin import RecentAuditFormSet

    monkeypatch.setattr(RecentAuditFormSet, "max_shown", 2)
    for city in ("Lyon", "Nantes", "Brest"):
        audit_record(action="partner.updated", obj=partner, after={"city": city})
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    page = admin_client.get(url)
    data = change_form_data(page)
    [inline] = page.context["inline_admin_formsets"]
    assert len(inline.formset.forms) == 2
    for form in inline.formset.forms:  # what the browser posts back: the rows' hidden ids
        data[form.add_prefix("id")] = form.instance.pk
        data[form.add_prefix("partner")] = partner.pk
    partner_suspend(partner=partner, by=admin_user, reason="Meanwhile")  # pushes a row out
    data.update(city="Paris")
    assert admin_client.post(url, data).status_code == 302
    partner.refresh_from_db()
    assert partner.city == "Paris"
    assert AuditEntry.objects.filter(partner=partner).count() == 5
