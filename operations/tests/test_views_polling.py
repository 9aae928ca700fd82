"""The 30-second polling swaps only when something changed, so keyboard focus stays put."""

import re

import pytest
from django.urls import reverse

from catalog.tests.factories import BookFactory
from operations.services import order_approve
from operations.tests.factories import place_order

pytestmark = pytest.mark.django_db


def polled_url(html, element_id):
    tag = re.search(rf'<[^>]*id="{element_id}"[^>]*>', html, re.S).group(0)
    return re.search(r'hx-get="([^"]+)"', tag).group(1).replace("&amp;", "&")


@pytest.mark.parametrize("page", ["dashboard", "order"])
def test_a_poll_that_finds_nothing_new_answers_204_then_the_change(
    partner_client, partner, admin_user, page
):
    order = place_order(partner, (BookFactory(), 2))
    if page == "dashboard":
        url, element = reverse("operations:dashboard"), "dashboard-live"
    else:
        url, element = reverse("operations:order_detail", args=[order.pk]), "order-status"
    poll = polled_url(partner_client.get(url).content.decode(), element)
    assert "__poll_version__" not in poll

    response = partner_client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response.content == b""

    order_approve(order=order, by=admin_user)
    response = partner_client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fresh = response.content.decode()
    assert f'id="{element}"' in fresh
    assert partner_client.get(polled_url(fresh, element), HTTP_HX_REQUEST="true").status_code == 204
