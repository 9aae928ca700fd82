from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.tests.factories import AdminUserFactory, PartnerFactory
from catalog.tests.factories import BookFactory
from operations.models import Item, Kind, Operation, Status
from operations.services import order_approve, order_deliver, order_reject
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:operations_operation_changelist")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", isbn="9782070368228", price=Decimal("12.50"))


def change_url(operation):
    return reverse("admin:operations_operation_change", args=[operation.pk])


def act(client, action, *operations, **extra):
    data = {"action": action, "_selected_action": [op.pk for op in operations], **extra}
    return client.post(CHANGELIST, data)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def refreshed(operation):
    return Operation.objects.get(pk=operation.pk)


# -- list, filters, search -------------------------------------------------------------------


def test_changelist_lists_filters_and_searches(admin_client, partner, other_partner, book):
    order = place_order(partner, (book, 2))
    report = submit_report(other_partner)
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert order.reference in response.text and report.reference in response.text

    response = admin_client.get(CHANGELIST, {"kind__exact": Kind.REPORT})
    assert report.reference in response.text and order.reference not in response.text

    response = admin_client.get(CHANGELIST, {"status__exact": Status.PENDING})
    assert list(response.context["cl"].queryset) == [order]

    response = admin_client.get(CHANGELIST, {"partner__id__exact": other_partner.pk})
    assert list(response.context["cl"].queryset) == [report]

    for query in ["Alice Livres", "alice@", order.reference, "978-2-07-036822-8"]:
        response = admin_client.get(CHANGELIST, {"q": query})
        assert list(response.context["cl"].queryset) == [order], query
    # A title goes through the book filter, not the search box.
    assert list(admin_client.get(CHANGELIST, {"q": "Misérables"}).context["cl"].queryset) == []
    response = admin_client.get(CHANGELIST, {"book": "Misérables"})
    assert list(response.context["cl"].queryset) == [order]


def test_admins_cannot_add_operations(admin_client):
    assert admin_client.get(reverse("admin:operations_operation_add")).status_code == 403


def test_change_page_shows_items_read_only_and_the_order_desk(admin_client, partner, book):
    order = place_order(partner, (book, 2))
    response = admin_client.get(change_url(order))
    assert response.status_code == 200
    assert "Les Misérables" in response.text
    assert "items-0-quantity" not in response.text  # no editable item field
    assert reverse("admin:operations_operation_approve", args=[order.pk]) in response.text
    assert reverse("admin:operations_operation_reject", args=[order.pk]) in response.text
    assert reverse("admin:operations_operation_deliver", args=[order.pk]) not in response.text
    form = response.context["adminform"].form
    assert list(form.fields) == ["admin_note"]


def test_saving_the_change_form_writes_the_admin_note_only(admin_client, partner, book):
    order = place_order(partner, (book, 2))
    stale_form_post = {
        **inline_management_data(admin_client.get(change_url(order))),
        "admin_note": "Livrer avant le salon",
        "status": Status.DELIVERED,
        "counts_in_stock": "on",
        "partner_note": "forged",
    }
    response = admin_client.post(change_url(order), stale_form_post)
    assert response.status_code == 302
    order = refreshed(order)
    assert order.admin_note == "Livrer avant le salon"
    assert order.status == Status.PENDING
    assert order.counts_in_stock is False
    assert order.partner_note == ""
    entry = AuditEntry.objects.get(action="operation.admin_note_changed")
    assert (entry.object_id, entry.actor_repr) == (order.pk, "admin@example.com")
    assert (entry.before, entry.after) == (
        {"admin_note": ""},
        {"admin_note": "Livrer avant le salon"},
    )


def test_the_operation_page_shows_its_history_read_only(admin_client, admin_user, partner, book):
    order = place_order(partner, (book, 2))
    order_approve(order=order, by=admin_user)
    page = admin_client.get(change_url(order))
    assert page.status_code == 200
    body = page.content.decode()
    assert "order.pending" in body and "order.approved" in body


def inline_management_data(page) -> dict:
    """The management forms of the change page's inlines, as the browser posts them."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    return data


# -- actions: approve, deliver, reject, void ---------------------------------------------------


def test_approve_action_approves_pending_orders_and_names_refused_ones(
    admin_client, admin_user, partner, other_partner, book
):
    pending = place_order(partner, (book, 1))
    approved = place_order(other_partner, (book, 1))
    order_approve(order=approved, by=admin_user)
    response = act(admin_client, "approve", pending, approved)
    assert response.status_code == 302
    assert refreshed(pending).status == Status.APPROVED
    assert refreshed(pending).approved_by == admin_user
    messages = texts(response)
    assert any(approved.reference in m and "only a pending order" in m for m in messages)
    assert any("1 order approved" in m for m in messages)


def test_deliver_action_delivers_approved_orders_only(admin_client, admin_user, partner, book):
    order = place_order(partner, (book, 3))
    response = act(admin_client, "deliver", order, apply="1")
    assert refreshed(order).status == Status.PENDING
    assert any(order.reference in m for m in texts(response))

    order_approve(order=order, by=admin_user)
    response = act(admin_client, "deliver", order, apply="1")
    order = refreshed(order)
    assert order.status == Status.DELIVERED and order.counts_in_stock
    assert any("1 order delivered" in m for m in texts(response))


def test_reject_action_asks_for_a_reason_first(admin_client, partner, book):
    order = place_order(partner, (book, 1))
    response = act(admin_client, "reject", order)
    assert response.status_code == 200
    assert "admin/operations/operation/reason.html" in [t.name for t in response.templates]
    assert refreshed(order).status == Status.PENDING

    response = act(admin_client, "reject", order, apply="1", reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert refreshed(order).status == Status.PENDING

    response = act(admin_client, "reject", order, apply="1", reason="Rupture de stock")
    assert response.status_code == 302
    order = refreshed(order)
    assert order.status == Status.REJECTED
    assert order.close_reason == "Rupture de stock"


def test_reject_action_names_a_delivered_order_it_refuses(admin_client, partner, book):
    order = delivered_order(partner, (book, 1))
    response = act(admin_client, "reject", order, apply="1", reason="Trop tard")
    assert refreshed(order).status == Status.DELIVERED
    assert any(order.reference in m and "rejected" in m for m in texts(response))


def test_void_action_voids_a_report_with_a_reason(admin_client, partner, book):
    delivered_order(partner, (book, 3))
    report = submit_report(partner, (book, 2))
    order = place_order(partner, (book, 1))
    response = act(admin_client, "void", report, order, apply="1", reason="Erreur de saisie")
    assert response.status_code == 302
    report = refreshed(report)
    assert report.status == Status.VOIDED and not report.counts_in_stock
    assert report.close_reason == "Erreur de saisie"
    assert any(order.reference in m and "only a recorded" in m for m in texts(response))


# -- order desk buttons -------------------------------------------------------------------


def test_order_desk_buttons_approve_then_deliver(admin_client, admin_user, partner, book):
    order = place_order(partner, (book, 2))
    approve = reverse("admin:operations_operation_approve", args=[order.pk])
    assert admin_client.get(approve).status_code == 405
    response = admin_client.post(approve)
    assert response.status_code == 302 and response["Location"] == change_url(order)
    assert refreshed(order).status == Status.APPROVED

    deliver = reverse("admin:operations_operation_deliver", args=[order.pk])
    response = admin_client.post(deliver, {"apply": "1"})
    assert refreshed(order).status == Status.DELIVERED
    assert refreshed(order).delivered_by == admin_user


def test_delivering_asks_first_from_the_order_page_and_from_the_list(
    admin_client, admin_user, partner, book
):
    order = order_approve(order=place_order(partner, (book, 2)), by=admin_user)
    deliver = reverse("admin:operations_operation_deliver", args=[order.pk])
    for response in (
        admin_client.get(deliver),
        admin_client.post(deliver),
        act(admin_client, "deliver", order),
    ):
        assert response.status_code == 200
        assert "A delivered order is final" in response.content.decode()
        assert refreshed(order).status == Status.APPROVED
    page = admin_client.get(change_url(order)).content.decode()
    assert f'href="{deliver}"' in page


def test_rejecting_a_delivered_order_is_refused_before_asking_a_reason(
    admin_client, admin_user, partner, book
):
    order = order_approve(order=place_order(partner, (book, 2)), by=admin_user)
    order_deliver(order=order, by=admin_user)
    response = admin_client.get(reverse("admin:operations_operation_reject", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == change_url(order)
    assert any("only a pending or approved order" in m for m in texts(response))


def test_order_desk_button_refusal_is_a_message(admin_client, partner, book):
    order = place_order(partner, (book, 2))
    response = admin_client.post(reverse("admin:operations_operation_deliver", args=[order.pk]))
    assert response.status_code == 302
    assert refreshed(order).status == Status.PENDING
    assert any("only an approved order" in m for m in texts(response))


def test_order_desk_reject_asks_for_a_reason(admin_client, partner, book):
    order = place_order(partner, (book, 2))
    url = reverse("admin:operations_operation_reject", args=[order.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="reason"' in response.text
    response = admin_client.post(url, {"apply": "1", "reason": ""})
    assert response.status_code == 200
    assert refreshed(order).status == Status.PENDING
    response = admin_client.post(url, {"apply": "1", "reason": "Fermé pour travaux"})
    assert response.status_code == 302
    assert refreshed(order).status == Status.REJECTED


def test_order_desk_void_button_on_a_report(admin_client, partner, book):
    delivered_order(partner, (book, 3))
    report = submit_report(partner, (book, 1))
    assert reverse("admin:operations_operation_void", args=[report.pk]) in (
        admin_client.get(change_url(report)).text
    )
    response = admin_client.post(
        reverse("admin:operations_operation_void", args=[report.pk]),
        {"apply": "1", "reason": "Doublon"},
    )
    assert response.status_code == 302
    assert refreshed(report).status == Status.VOIDED


# -- deletion (rule 6) ---------------------------------------------------------------------


def test_a_counting_operation_cannot_be_deleted_and_the_page_says_why(admin_client, partner, book):
    order = delivered_order(partner, (book, 2))
    response = admin_client.get(change_url(order))
    assert "counts in the stock" in response.text
    delete_url = reverse("admin:operations_operation_delete", args=[order.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Operation.objects.filter(pk=order.pk).exists()


def test_a_non_counting_operation_is_deleted_through_the_service(
    admin_client, admin_user, partner, book
):
    order = place_order(partner, (book, 2))
    order_reject(order=order, by=admin_user, reason="Test")
    delete_url = reverse("admin:operations_operation_delete", args=[order.pk])
    response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not Operation.objects.filter(pk=order.pk).exists()
    assert not Item.objects.filter(operation_id=order.pk).exists()


def test_bulk_delete_refuses_when_any_selected_row_counts_naming_it(
    admin_client, admin_user, partner, other_partner, book
):
    counting = delivered_order(partner, (book, 2))
    rejected = place_order(other_partner, (book, 1))
    order_reject(order=rejected, by=admin_user, reason="Non")
    response = act(admin_client, "delete_selected", counting, rejected, post="yes")
    assert response.status_code == 302
    assert Operation.objects.filter(pk__in=[counting.pk, rejected.pk]).count() == 2
    messages = texts(response)
    assert any(counting.reference in m and "cannot be deleted" in m for m in messages)
    assert any("Nothing was deleted" in m for m in messages)


def test_bulk_delete_of_non_counting_rows_confirms_then_deletes(
    admin_client, admin_user, partner, book
):
    rejected = place_order(partner, (book, 1))
    order_reject(order=rejected, by=admin_user, reason="Non")
    pending = place_order(partner, (book, 1))
    response = act(admin_client, "delete_selected", rejected, pending)
    assert response.status_code == 200  # Django's confirmation page
    assert Operation.objects.count() == 2
    response = act(admin_client, "delete_selected", rejected, pending, post="yes")
    assert response.status_code == 302
    assert Operation.objects.count() == 0


# -- notifications in the admin -------------------------------------------------------------


def test_admin_sees_his_unread_count_and_marks_notifications_read(
    admin_client, admin_user, partner, book
):
    order = place_order(partner, (book, 1))
    response = admin_client.get(reverse("admin:index"))
    assert "1 unread notification" in response.text
    notices = reverse("admin:operations_notification_changelist")
    response = admin_client.get(notices, {"read": "no"})
    assert order.reference in response.text
    notice = admin_user.notifications.get()
    response = admin_client.post(notices, {"action": "mark_read", "_selected_action": [notice.pk]})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "0 unread notifications" in admin_client.get(reverse("admin:index")).text


def test_notification_list_shows_only_the_admins_own(admin_client, partner, book):
    place_order(partner, (book, 1))
    other = AdminUserFactory()
    response = admin_client.get(reverse("admin:operations_notification_changelist"))
    shown = list(response.context["cl"].queryset)
    assert shown and all(n.recipient_id != other.pk for n in shown)


def test_admin_index_shows_the_order_desk_counts(admin_client, admin_user, partner, other_partner):
    book = BookFactory()
    place_order(partner, (book, 1))
    approved = place_order(other_partner, (book, 1))
    order_approve(order=approved, by=admin_user)
    third = PartnerFactory()
    delivered_order(third, (book, 1))
    response = admin_client.get(reverse("admin:index"))
    text = response.text
    assert '<td id="desk-pending">1</td>' in text
    assert '<td id="desk-approved">1</td>' in text
    assert '<td id="desk-awaiting">1</td>' in text
    awaiting = admin_client.get(
        reverse("admin:accounts_partner_changelist"), {"report": "awaiting"}
    )
    assert list(awaiting.context["cl"].queryset) == [third]


def test_the_list_finds_operations_by_book_title_or_isbn_once_each(admin_client, partner, book):
    other = BookFactory(title="Germinal", isbn="9782070360024")
    order = delivered_order(partner, (other, 2), (book, 1))
    report = submit_report(partner, (other, 1))
    url = reverse("admin:operations_operation_changelist")
    for params in ({"book": "germinal"}, {"q": "978-2-07-036002-4"}, {"q": order.reference}):
        found = list(admin_client.get(url, params).context["cl"].result_list)
        expected = [order] if params.get("q") == order.reference else [report, order]
        assert found == expected, params
    assert list(admin_client.get(url, {"q": "zzz"}).context["cl"].result_list) == []
