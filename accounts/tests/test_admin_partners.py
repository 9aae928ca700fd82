import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry, Partner, User
from accounts.services import partner_suspend
from accounts.tests.factories import PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_partner_changelist")
ADD = reverse("admin:accounts_partner_add")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://toplivres.example"


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(client, action, *partners, **extra):
    data = {"action": action, "_selected_action": [p.pk for p in partners], **extra}
    return client.post(CHANGELIST, data)


def invitation_link(message) -> str:
    match = re.search(r"https://toplivres\.example(/accounts/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def change_form_data(page) -> dict:
    """What the partner change page posts back: the form's values and the management form
    of its read-only history inline."""
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    return data


NEW_PARTNER = {
    "email": "Chloe@Example.com",
    "language": "en",
    "store_name": "Chez Chloé",
    "contact_name": "Chloé Martin",
    "address": "3 rue des Lilas",
    "postal_code": "69001",
    "city": "Lyon",
    "phone": "04 00 00 00 00",
    "commission_rate": "30",
}


def test_admin_creates_a_partner_without_a_password_and_it_is_invited(
    admin_client, django_capture_on_commit_callbacks, mailoutbox
):
    page = admin_client.get(ADD)
    assert page.status_code == 200
    assert "password" not in page.text.lower().split("<form", 1)[1].split("</form>", 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD, NEW_PARTNER)
    assert response.status_code == 302
    partner = Partner.objects.get(store_name="Chez Chloé")
    assert partner.user.email == "chloe@example.com"
    assert partner.user.role == User.Role.PARTNER
    assert partner.user.language == "en"
    assert not partner.user.has_usable_password()
    assert partner.commission_rate == Decimal("30")
    assert [m.to for m in mailoutbox] == [["chloe@example.com"]]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_a_duplicate_email_is_refused_next_to_the_field(admin_client, partner):
    response = admin_client.post(ADD, {**NEW_PARTNER, "email": "ALICE@example.com"})
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert Partner.objects.count() == 1


def test_the_invitation_link_sets_a_password_once_then_stops_working(
    admin_client, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, NEW_PARTNER)
    link = invitation_link(mailoutbox[0])
    visitor = Client()
    response = visitor.get(link, follow=True)
    assert response.context["validlink"] is True
    set_password_url = response.redirect_chain[-1][0]
    response = visitor.post(
        set_password_url,
        {"new_password1": "Une-belle-librairie-42", "new_password2": "Une-belle-librairie-42"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="chloe@example.com")
    assert user.check_password("Une-belle-librairie-42")
    [chosen] = AuditEntry.objects.filter(action="user.password_reset", object_id=user.pk)
    assert chosen.actor == user and "Une-belle" not in str(chosen.after)

    response = Client().get(link, follow=True)
    assert response.context["validlink"] is False
    login = Client().post(
        reverse("login"), {"username": "chloe@example.com", "password": "Une-belle-librairie-42"}
    )
    assert login.status_code == 302


def test_resend_invitation_by_action_and_by_button(
    admin_client, partner, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "resend_invitation", partner)
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:accounts_partner_invite", args=[partner.pk]))
    assert response.status_code == 302
    assert len(mailoutbox) == 2
    assert (
        admin_client.get(reverse("admin:accounts_partner_invite", args=[partner.pk])).status_code
        == 405
    )


def test_a_suspended_partner_is_not_invited(
    admin_client, suspended_partner, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "resend_invitation", suspended_partner)
    assert mailoutbox == []
    assert any("Sam Suspendu" in m and "suspended" in m for m in texts(response))


def test_suspend_action_asks_for_a_reason(admin_client, partner):
    response = act(admin_client, "suspend", partner)
    assert response.status_code == 200
    assert 'name="reason"' in response.text
    # The page posts the selection back to the same action.
    assert '<input type="hidden" name="action" value="suspend">' in response.text
    assert f'name="_selected_action" value="{partner.pk}"' in response.text
    response = act(admin_client, "suspend", partner, apply="1", reason="")
    assert response.status_code == 200
    partner.refresh_from_db()
    assert not partner.is_suspended
    response = act(admin_client, "suspend", partner, apply="1", reason="Factures impayées")
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.is_suspended
    assert partner.suspension_reason == "Factures impayées"


def test_suspension_ends_the_partners_live_session(admin_client, partner):
    counter = Client()
    counter.force_login(partner.user)
    dashboard = reverse("operations:dashboard")
    assert counter.get(dashboard).status_code == 200

    url = reverse("admin:accounts_partner_suspend", args=[partner.pk])
    response = admin_client.post(url, {"apply": "1", "reason": "Fermeture"})
    assert response.status_code == 302

    response = counter.get(dashboard)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_suspending_twice_names_the_partner(admin_client, suspended_partner):
    response = act(admin_client, "suspend", suspended_partner, apply="1", reason="Encore")
    assert any("Sam Suspendu" in m and "already suspended" in m for m in texts(response))


def test_reactivate_by_action_and_button_restores_access(admin_client, admin_user, partner):
    partner_suspend(partner=partner, by=admin_user, reason="Pause")
    response = act(admin_client, "reactivate", partner)
    assert response.status_code == 302
    partner.refresh_from_db()
    assert not partner.is_suspended and partner.user.is_active
    response = act(admin_client, "reactivate", partner)
    assert any("not suspended" in m for m in texts(response))

    partner_suspend(partner=partner, by=admin_user, reason="Pause")
    admin_client.post(reverse("admin:accounts_partner_reactivate", args=[partner.pk]))
    partner.refresh_from_db()
    assert not partner.is_suspended


def test_changelist_filters_by_status_and_city_and_searches(
    admin_client, partner, other_partner, suspended_partner
):
    Partner.objects.filter(pk=partner.pk).update(city="Lyon")
    Partner.objects.filter(pk=other_partner.pk).update(city="Nantes")

    def shown(**params):
        return set(admin_client.get(CHANGELIST, params).context["cl"].queryset)

    assert shown(status="active") == {partner, other_partner}
    assert shown(status="suspended") == {suspended_partner}
    assert shown(city="Lyon") == {partner}
    assert shown(q="Bouquins") == {other_partner}
    assert shown(q="Nantes") == {other_partner}
    assert shown(q="alice@example") == {partner}


def test_change_page_shows_stock_open_order_and_figures(admin_client, partner):
    book = BookFactory(title="Au Bonheur des Dames", price=Decimal("10.00"))
    delivered_order(partner, (book, 4))
    submit_report(partner, (book, 1))
    order = place_order(partner, (book, 2))
    response = admin_client.get(reverse("admin:accounts_partner_change", args=[partner.pk]))
    assert response.status_code == 200
    assert response.context["figures"].copies_sold == 1
    assert response.context["open_order"] == order
    assert [row["quantity"] for row in response.context["stock"]] == [3]
    assert "Au Bonheur des Dames" in response.text
    assert order.reference in response.text
    assert "30.00" in response.text  # stock value at retail
    form = response.context["adminform"].form
    assert "suspended_at" not in form.fields and "suspension_reason" not in form.fields


def test_editing_store_details_never_undoes_a_suspension(admin_client, admin_user, partner):
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    page = admin_client.get(url)
    data = change_form_data(page)
    partner_suspend(partner=partner, by=admin_user, reason="Meanwhile")  # another admin
    data.update(store_name="Alice & Co", commission_rate="35")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.store_name == "Alice & Co"
    assert partner.is_suspended


def test_partners_cannot_be_deleted(admin_client, partner):
    url = reverse("admin:accounts_partner_delete", args=[partner.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403


# -- users --------------------------------------------------------------------------------------


def test_a_partner_user_cannot_be_made_staff_from_the_user_admin(admin_client, partner):
    url = reverse("admin:accounts_user_change", args=[partner.user.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "is_staff" not in form.fields and "is_superuser" not in form.fields
    response = admin_client.post(
        url,
        {
            "email": partner.user.email,
            "full_name": "Alice",
            "language": "fr",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code in (200, 302)
    partner.user.refresh_from_db()
    assert not partner.user.is_staff and not partner.user.is_superuser


def test_the_user_admin_adds_members_of_the_team(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "dora@example.com",
            "full_name": "Dora",
            "language": "fr",
            "password1": "Un-mot-de-passe-solide-7",
            "password2": "Un-mot-de-passe-solide-7",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="dora@example.com")
    assert user.is_admin and user.is_staff


def test_partner_user_cannot_be_deleted_from_the_user_admin(admin_client):
    user = UserFactory()
    PartnerFactory(user=user)
    url = reverse("admin:accounts_user_delete", args=[user.pk])
    assert admin_client.get(url).status_code == 403
