"""The partner's admin page shows its stock one page at a time, in constant queries."""

import re

import pytest
from django.urls import reverse

from operations.admin_partners import STOCK_PAGE_SIZE
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db


def _page_url(partner, page=None):
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    return f"{url}?stock_page={page}" if page else url


def _stock_rows(html: str) -> list[str]:
    section = html.split('id="partner-stock"', 1)[1].split("</fieldset>", 1)[0]
    return re.findall(r"<tr><td>(Titre [^<]+)", section)


def test_the_stock_held_is_paginated_by_title(admin_client, partner, admin_user):
    grow_history(partner, STOCK_PAGE_SIZE + 7, admin=admin_user)
    first = admin_client.get(_page_url(partner)).content.decode()
    second = admin_client.get(_page_url(partner, 2)).content.decode()
    rows = _stock_rows(first) + _stock_rows(second)
    assert len(_stock_rows(first)) == STOCK_PAGE_SIZE
    assert len(rows) == STOCK_PAGE_SIZE + 7 == len(set(rows))
    assert rows == sorted(rows)
    assert "Page 1 of 2" in first and "?stock_page=2#partner-stock" in first
    # A page past the end, or not a number, shows the nearest page instead of an error.
    assert _stock_rows(admin_client.get(_page_url(partner, 99)).content.decode()) == _stock_rows(
        second
    )
    assert admin_client.get(_page_url(partner, "x")).status_code == 200


def test_the_partner_page_runs_the_same_queries_with_10_or_500_titles(
    admin_client, partner, admin_user
):
    grow_history(partner, 10, admin=admin_user)
    small = query_count(admin_client, _page_url(partner))
    grow_history(partner, 500, admin=admin_user)
    assert query_count(admin_client, _page_url(partner)) == small
    assert query_count(admin_client, _page_url(partner, 3)) == small
    assert small <= 12
