"""The audit log (rule 12): one row per change, in the change's transaction, never changed."""

import logging
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import AppendOnlyError, AuditEntry, Partner, purge_allowed, purge_is_allowed
from accounts.services import (
    audit_record,
    changes,
    partner_create,
    partner_invite,
    partner_onboard,
    partner_reactivate,
    partner_suspend,
    partner_update,
    partner_update_details,
    user_set_language,
)
from accounts.tests.factories import PASSWORD, AdminUserFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(action, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters))


# -- the model: append-only ---------------------------------------------------------------------


def test_an_audit_row_cannot_be_saved_again(partner):
    entry = audit_record(action="partner.updated", obj=partner)
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["reason"])
    entry.refresh_from_db()
    assert entry.reason == ""


def test_an_audit_row_cannot_be_deleted(partner):
    entry = audit_record(action="partner.updated", obj=partner)
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_querysets_refuse_update_and_delete(partner):
    audit_record(action="partner.updated", obj=partner)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(partner=partner).delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update(list(AuditEntry.objects.all()), ["reason"])
    assert AuditEntry.objects.filter(partner=partner, reason="").count() == 1


def test_purge_allowed_lets_a_delete_through_only_inside_the_block(partner):
    audit_record(action="partner.updated", obj=partner)
    assert not purge_is_allowed()
    with purge_allowed():
        assert purge_is_allowed()
        AuditEntry.objects.all().delete()
    assert not purge_is_allowed()
    assert not AuditEntry.objects.exists()


def test_a_partner_with_history_cannot_be_deleted(partner):
    from django.db.models import ProtectedError

    audit_record(action="partner.updated", obj=partner)
    with pytest.raises(ProtectedError):
        Partner.objects.filter(pk=partner.pk).delete()


def test_deleting_a_team_member_keeps_its_rows_and_its_email(partner):
    desk = AdminUserFactory(email="desk@example.com")
    entry = audit_record(action="partner.updated", actor=desk, obj=partner)
    desk.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_repr == "desk@example.com"


# -- audit_record and changes ---------------------------------------------------------------------


def test_audit_record_fills_the_object_and_actor_and_logs_one_line(caplog, admin_user, partner):
    with caplog.at_level(logging.INFO, logger="toplivres.audit"):
        entry = audit_record(
            action="partner.updated",
            actor=admin_user,
            obj=partner,
            before={"commission_rate": Decimal("35.00")},
            after={"commission_rate": Decimal("30.00")},
        )
    entry.refresh_from_db()
    assert entry.actor == admin_user and entry.actor_repr == "admin@example.com"
    assert entry.content_type == ContentType.objects.get_for_model(Partner)
    assert entry.object_id == partner.pk and entry.object_repr == "Alice Livres"
    assert entry.partner == partner
    assert entry.before == {"commission_rate": "35.00"}
    assert entry.after == {"commission_rate": "30.00"}
    lines = [r.getMessage() for r in caplog.records if r.name == "toplivres.audit"]
    assert len(lines) == 1
    assert "partner.updated" in lines[0] and "admin@example.com" in lines[0]
    assert f"partner {partner.pk}" in lines[0] and "30.00" not in lines[0]


def test_audit_record_without_an_actor_is_the_system():
    entry = audit_record(action="demo.loaded")
    assert entry.actor is None and entry.actor_repr == ""
    assert entry.content_type is None and entry.object_id is None and entry.partner is None


def test_changes_keeps_only_changed_fields_json_safe():
    import datetime

    before = {"rate": Decimal("35.00"), "city": "Lyon", "day": datetime.date(2026, 1, 2)}
    after = {"rate": Decimal("35"), "city": "Nantes", "day": datetime.date(2026, 1, 3)}
    assert changes(before, after) == (
        {"city": "Lyon", "day": "2026-01-02"},
        {"city": "Nantes", "day": "2026-01-03"},
    )


def test_the_audit_row_rolls_back_with_its_change(partner, admin_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_update(partner=partner, by=admin_user, city="Paris")
        raise RuntimeError
    assert not AuditEntry.objects.filter(action="partner.updated").exists()


# -- each accounts service writes exactly one row -----------------------------------------------


def test_partner_create_is_audited_once_with_its_details(admin_user):
    partner = partner_create(
        email="New@Shop.fr", store_name="La Nouvelle", commission_rate=Decimal("30"), by=admin_user
    )
    [entry] = rows("partner.created")
    assert entry.partner == partner and entry.actor == admin_user
    assert entry.before == {}
    assert entry.after["email"] == "new@shop.fr"
    assert entry.after["store_name"] == "La Nouvelle"
    assert entry.after["commission_rate"] == "30"


def test_partner_onboard_records_the_creation_and_the_invitation(
    admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        partner = partner_onboard(
            email="chloe@example.com", store_name="Chez Chloé", language="en", by=admin_user
        )
    assert [e.action for e in AuditEntry.objects.filter(partner=partner)] == [
        "partner.invited",
        "partner.created",
    ]
    assert rows("partner.created")[0].after["language"] == "en"


def test_an_invitation_again_is_audited_and_a_refused_one_is_not(
    admin_user, partner, suspended_partner
):
    partner_invite(partner=partner, by=admin_user)
    with pytest.raises(ValidationError):
        partner_invite(partner=suspended_partner, by=admin_user)
    [entry] = rows("partner.invited")
    assert entry.partner == partner and entry.actor == admin_user


def test_suspension_is_audited_with_its_reason(admin_user, partner):
    partner_suspend(partner=partner, by=admin_user, reason="Unpaid invoices")
    [entry] = rows("partner.suspended", partner=partner)
    assert entry.reason == "Unpaid invoices"
    assert entry.before["suspended_at"] is None
    assert entry.after["suspended_at"]
    assert entry.after["is_active"] is False


def test_a_refused_suspension_writes_no_row(admin_user, partner, suspended_partner):
    with pytest.raises(ValidationError):
        partner_suspend(partner=partner, by=admin_user, reason="  ")
    with pytest.raises(ValidationError):
        partner_suspend(partner=suspended_partner, by=admin_user, reason="Again")
    assert rows("partner.suspended", partner=partner) == []
    assert len(rows("partner.suspended", partner=suspended_partner)) == 1


def test_reactivation_is_audited_and_the_suspension_stays_in_the_history(
    admin_user, suspended_partner, partner
):
    partner_reactivate(partner=suspended_partner, by=admin_user, reason="Paid")
    with pytest.raises(ValidationError):
        partner_reactivate(partner=partner, by=admin_user)
    [entry] = rows("partner.reactivated")
    assert entry.partner == suspended_partner and entry.reason == "Paid"
    assert entry.before["suspension_reason"] == "Unpaid invoices"
    history = AuditEntry.objects.filter(
        partner=suspended_partner, action__startswith="partner.", action__endswith="ed"
    )
    assert [e.action for e in history][:2] == ["partner.reactivated", "partner.suspended"]


def test_partner_update_writes_only_changed_columns_and_audits_the_commission(admin_user, partner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Partner.objects.filter(pk=partner.pk).update(commission_rate=Decimal("35.00"))
    with CaptureQueriesContext(connection) as queries:
        updated = partner_update(
            partner=partner, by=admin_user, commission_rate=Decimal("30"), city=partner.city
        )
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "accounts_partner"')]
    assert '"commission_rate"' in update and '"city"' not in update
    assert updated.commission_rate == Decimal("30")
    [entry] = rows("partner.updated")
    assert entry.before == {"commission_rate": "35.00"}
    assert entry.after == {"commission_rate": "30"}
    assert entry.actor == admin_user and entry.partner == partner


def test_partner_update_never_undoes_a_suspension_made_meanwhile(admin_user, partner):
    stale = Partner.objects.get(pk=partner.pk)
    partner_suspend(partner=partner, by=admin_user, reason="Meanwhile")
    partner_update(partner=stale, by=admin_user, store_name="Alice & Co")
    partner.refresh_from_db()
    assert partner.store_name == "Alice & Co" and partner.is_suspended


def test_partner_update_takes_the_partner_lock(monkeypatch, admin_user, partner):
    from accounts import services

    locked = []
    real_lock = services.partner_lock

    def spy(*, partner_id):
        locked.append(partner_id)
        return real_lock(partner_id=partner_id)

    monkeypatch.setattr(services, "partner_lock", spy)
    partner_update(partner=partner, by=admin_user, city="Paris")
    assert locked == [partner.pk]


def test_partner_update_with_nothing_changed_writes_no_row(admin_user, partner):
    partner_update(partner=partner, by=admin_user, city=partner.city, store_name="Alice Livres")
    assert rows("partner.updated") == []


def test_partner_update_refuses_bad_values_and_unknown_fields(admin_user, partner):
    with pytest.raises(ValidationError):
        partner_update(partner=partner, by=admin_user, commission_rate=Decimal("120"))
    with pytest.raises(ValueError):
        partner_update(partner=partner, by=admin_user, suspended_at=None)
    assert rows("partner.updated") == []


def test_the_partner_editing_its_details_is_audited(partner, other_partner):
    partner_update_details(partner=partner, by=partner.user, city="Nantes")
    with pytest.raises(ValidationError):
        partner_update_details(partner=partner, by=other_partner.user, city="Brest")
    [entry] = rows("partner.details_updated")
    assert entry.actor == partner.user and entry.partner == partner
    assert entry.after == {"city": "Nantes"}


def test_a_language_change_is_audited_once(partner):
    user_set_language(user=partner.user, language="en")
    user_set_language(user=partner.user, language="en")  # nothing changes
    [entry] = rows("user.language_changed")
    assert entry.before == {"language": "fr"} and entry.after == {"language": "en"}
    assert entry.partner == partner


# -- logins ---------------------------------------------------------------------------------------


def login(client, email, password=PASSWORD):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR="192.0.2.7"
    )


def test_a_login_is_audited_with_the_ip(client, partner):
    assert login(client, "alice@example.com").status_code == 302
    [entry] = rows("login.succeeded")
    assert entry.actor == partner.user and entry.partner == partner
    assert entry.ip == "192.0.2.7"


def test_a_failed_login_is_audited_without_the_password(client, partner, caplog):
    with caplog.at_level(logging.INFO, logger="toplivres.audit"):
        login(client, "ALICE@Example.com", "s3cret-typo")
    [entry] = rows("login.failed")
    assert entry.actor is None
    assert entry.after == {"email": "alice@example.com"}
    assert entry.partner == partner and entry.ip == "192.0.2.7"
    assert "s3cret-typo" not in str(entry.before) + str(entry.after) + entry.reason
    lines = [r.getMessage() for r in caplog.records if r.name == "toplivres.audit"]
    assert len(lines) == 1 and "login.failed" in lines[0]
    assert "s3cret-typo" not in caplog.text


def test_a_failed_login_for_an_unknown_address_is_audited(client):
    login(client, "Nobody@Example.com", "whatever")
    [entry] = rows("login.failed")
    assert entry.object_id is None and entry.partner is None
    assert entry.after == {"email": "nobody@example.com"}


def test_the_email_of_a_failed_login_is_cut_to_254_characters():
    from accounts.services import login_failed

    entry = login_failed(email="X" * 300 + "@example.com")
    assert entry.after["email"] == "x" * 254


def test_a_suspended_partner_trying_to_log_in_is_audited_as_failed(client, suspended_partner):
    login(client, "sam@example.com")
    assert rows("login.failed")[0].partner == suspended_partner
    assert rows("login.succeeded") == []


def test_a_logout_is_audited(client, partner):
    login(client, "alice@example.com")
    client.post(reverse("logout"))
    [entry] = rows("logout")
    assert entry.actor == partner.user


def test_a_partner_changing_its_password_is_audited_as_a_fact_only(client, partner):
    client.force_login(partner.user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Une-autre-librairie-43",
            "new_password2": "Une-autre-librairie-43",
        },
    )
    assert response.status_code == 302
    [entry] = rows("user.password_changed")
    assert entry.actor == partner.user and entry.partner == partner
    assert entry.after == {"password": "(changed)"}


def test_a_refused_password_change_writes_no_row(client, partner):
    client.force_login(partner.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "Abc-def-1234", "new_password2": "Abc-def-1234"},
    )
    assert response.status_code == 200
    assert rows("user.password_changed") == []


def test_rows_of_one_partner_never_list_another(partner, other_partner, admin_user):
    partner_update(partner=partner, by=admin_user, city="Paris")
    partner_update(partner=other_partner, by=admin_user, city="Brest")
    assert {e.after["city"] for e in AuditEntry.objects.for_partner(partner)} == {"Paris"}


def test_factories_leave_no_audit_rows():
    PartnerFactory(user=UserFactory())
    assert not AuditEntry.objects.exists()
