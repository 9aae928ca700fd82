import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.models import Status
from operations.tests.factories import place_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("admin:operations_operation_changelist", "approve"),
        ("admin:operations_operation_changelist", "delete_selected"),
        ("admin:accounts_partner_changelist", "suspend"),
        ("admin:accounts_user_changelist", "delete_selected"),
        ("admin:catalog_book_changelist", "delete_selected"),
        ("admin:catalog_series_changelist", "delete_selected"),
        ("admin:operations_notification_changelist", "mark_read"),
    ],
)
def test_a_tampered_selection_is_refused_with_a_message(admin_client, partner, changelist, action):
    order = place_order(partner, (BookFactory(), 1))
    response = admin_client.post(
        reverse(changelist),
        {"action": action, "_selected_action": [str(order.pk), "abc"], "index": "0"},
    )
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("not understood" in t for t in texts)
    order.refresh_from_db()
    assert order.status == Status.PENDING
