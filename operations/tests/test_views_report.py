from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from catalog.tests.factories import BookFactory
from operations.models import Kind, Operation
from operations.selectors import ordering_state, stock_quantities_for_partner
from operations.services import report_void
from operations.tests.factories import delivered_order, submit_report
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

NEW = reverse("operations:report_new")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"))


@pytest.fixture
def book2(db):
    return BookFactory(title="Germinal", price=Decimal("10.00"))


@pytest.fixture
def stocked(partner, book, book2):
    """Alice holds 5 Misérables and 3 Germinal; she must report before ordering again."""
    partner.commission_rate = Decimal("35")
    partner.save()
    return delivered_order(partner, (book, 5), (book2, 3))


def reports(partner):
    return Operation.objects.filter(partner=partner, kind=Kind.REPORT)


def token(client):
    return client.get(NEW).context["form"]["token"].value()


def post(client, data, action, **extra):
    return client.post(NEW, {**data, "action": action}, **extra)


def test_form_lists_every_title_held_with_copies(partner_client, stocked, book, book2):
    response = partner_client.get(NEW)
    body = response.content.decode()
    assert "Les Misérables" in body and "Germinal" in body
    assert "5 held" in body and "3 held" in body
    assert f'name="sold_{book.pk}"' in body and f'name="shelf_{book.pk}"' in body
    assert "Nothing sold this period" in body


def test_review_shows_a_summary_with_revenue_and_amount_due(partner_client, stocked, book, book2):
    data = {"token": token(partner_client), f"sold_{book.pk}": "2", f"shelf_{book2.pk}": "2"}
    response = post(partner_client, data, "review")
    body = response.content.decode()
    summary = response.context["summary"]
    assert summary["copies"] == 3
    assert summary["revenue"] == Decimal("35.00")
    assert summary["due"] == Decimal("22.75")
    assert "€35.00" in body and "€22.75" in body and "€12.25" in body
    assert "Send this report" in body
    assert not reports(stocked.partner).exists()


def test_submitting_records_the_report_and_leads_to_its_page(
    partner_client, partner, stocked, book, book2
):
    data = {
        "token": token(partner_client),
        f"sold_{book.pk}": "2",
        f"shelf_{book2.pk}": "2",
        "note": "Bonne semaine",
    }
    review = post(partner_client, data, "review")
    assert review.status_code == 200
    response = post(partner_client, data, "submit")
    report = reports(partner).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("operations:report_detail", args=[report.pk])
    assert {i.book_id: i.quantity for i in report.items.all()} == {book.pk: -2, book2.pk: -1}
    assert report.partner_note == "Bonne semaine"
    assert stock_quantities_for_partner(partner=partner) == {book.pk: 3, book2.pk: 2}
    assert ordering_state(partner=partner).can_order
    page = partner_client.get(response["Location"]).content.decode()
    assert report.reference in page and "€35.00" in page and "€22.75" in page


def test_the_summary_shows_the_shelf_count_and_carries_the_draft_it_shows(
    partner_client, partner, stocked, book
):
    data = {"token": token(partner_client), f"shelf_{book.pk}": "1"}
    response = post(partner_client, data, "review")
    body = response.content.decode()
    assert "4 sold of 5 held" in body and "1 copy left on the shelf" in body
    assert f'name="digest" value="{response.context["digest"]}"' in body


def test_change_goes_back_to_the_filled_form(partner_client, stocked, book):
    data = {"token": token(partner_client), f"sold_{book.pk}": "2"}
    response = post(partner_client, data, "edit")
    assert response.context["summary"] is None
    assert f'id="id_sold_{book.pk}" value="2"' in response.content.decode()


def test_nothing_sold_is_a_clear_path_and_counts_as_a_report(partner_client, partner, stocked):
    data = {"token": token(partner_client)}
    review = post(partner_client, data, "review")
    assert "nothing was sold" in review.content.decode()
    response = post(partner_client, data, "submit")
    report = reports(partner).get()
    assert response.status_code == 302
    assert not report.items.exists()
    assert ordering_state(partner=partner).can_order
    page = partner_client.get(response["Location"]).content.decode()
    assert "Nothing sold in this period" in page


def test_a_partner_holding_nothing_can_still_report_nothing_sold(partner_client, partner):
    response = partner_client.get(NEW)
    assert "You hold no copies" in response.content.decode()
    post(partner_client, {"token": token(partner_client)}, "submit")
    assert reports(partner).count() == 1


def test_htmx_review_returns_the_report_fragment(partner_client, stocked, book):
    data = {"token": token(partner_client), f"sold_{book.pk}": "1"}
    response = post(partner_client, data, "review", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="report"')
    assert "<html" not in body
    response = post(partner_client, data, "submit", HTTP_HX_REQUEST="true")
    report = reports(stocked.partner).get()
    assert response["HX-Redirect"] == reverse("operations:report_detail", args=[report.pk])


@pytest.mark.parametrize(
    "line, message",
    [
        ({"sold": "6"}, "you cannot report more sold"),
        ({"shelf": "6"}, "the shelf cannot have more"),
        ({"sold": "2", "shelf": "2"}, "Sold and on the shelf disagree"),
        ({"sold": "-1"}, "greater than or equal to 0"),
        ({"shelf": "-1"}, "greater than or equal to 0"),
        ({"sold": "abc"}, "Enter a whole number"),
        ({"shelf": "deux"}, "Enter a whole number"),
        ({"sold": "99999999999999999999999"}, "less than or equal to 9999"),
        ({"sold": "1.5"}, "Enter a whole number"),
    ],
)
def test_bad_lines_are_refused_next_to_their_field(
    partner_client, partner, stocked, book, line, message
):
    data = {"token": token(partner_client)}
    data.update({f"{k}_{book.pk}": v for k, v in line.items()})
    for action in ("review", "submit"):
        response = post(partner_client, data, action)
        body = response.content.decode()
        assert response.status_code == 200
        assert message in body
        assert 'aria-invalid="true"' in body
        assert response.context["summary"] is None
    assert not reports(partner).exists()


def test_consistent_sold_and_shelf_are_accepted(partner_client, partner, stocked, book):
    data = {"token": token(partner_client), f"sold_{book.pk}": "2", f"shelf_{book.pk}": "3"}
    post(partner_client, data, "submit")
    assert reports(partner).get().items.get().quantity == -2


def test_a_line_for_a_book_not_held_refuses_the_whole_report(
    partner_client, partner, stocked, book
):
    stranger = BookFactory(title="Livre étranger")
    data = {"token": token(partner_client), f"sold_{stranger.pk}": "3", f"sold_{book.pk}": "1"}
    response = post(partner_client, data, "submit")
    assert response.status_code == 200
    assert "You hold no copies of Livre étranger: nothing was recorded." in response.text
    assert not reports(partner).exists()


def test_a_tampered_nothing_sold_report_does_not_lift_the_ordering_block(
    partner_client, partner, stocked
):
    # Only a line for a book not held: dropping it would record "nothing sold".
    stranger = BookFactory()
    response = post(
        partner_client, {"token": token(partner_client), f"sold_{stranger.pk}": "1"}, "submit"
    )
    assert "You hold no copies of" in response.text
    assert not reports(partner).exists()
    assert ordering_state(partner=partner).code == "awaiting_report"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"price_override": "0"}, "a field it does not know (“price_override”)"),
        ({"sold_99999999999999999999": "1"}, "a field it does not know"),
    ],
)
def test_an_unknown_field_refuses_the_report(
    partner_client, partner, stocked, book, extra, message
):
    data = {"token": token(partner_client), f"sold_{book.pk}": "1", **extra}
    response = post(partner_client, data, "submit")
    assert message in response.text
    assert not reports(partner).exists()


def test_a_field_sent_twice_refuses_the_report(partner_client, partner, stocked, book):
    data = {"token": token(partner_client), f"sold_{book.pk}": ["1", "2"]}
    response = post(partner_client, data, "submit")
    assert f"The form sent “sold_{book.pk}” twice: nothing was recorded." in response.text
    assert not reports(partner).exists()


@pytest.mark.parametrize("bad_token", ["", "garbage", "1:2", "W1sxLCAyXV0:bad:sig"])
def test_a_tampered_token_gives_the_form_back_with_a_fresh_one(
    partner_client, partner, stocked, book, bad_token
):
    data = {"token": bad_token, f"sold_{book.pk}": "1"}
    response = post(partner_client, data, "submit")
    body = response.content.decode()
    assert response.status_code == 200
    assert "This form has expired" in body
    assert not reports(partner).exists()
    fresh = response.context["form"]["token"].value()
    post(partner_client, {**data, "token": fresh}, "submit")
    assert reports(partner).count() == 1


def test_another_partners_token_is_refused(
    partner_client, client, partner, other_partner, stocked, book
):
    from operations.forms import report_form_token

    data = {"token": report_form_token(partner=other_partner, newest_report_pk=0)}
    response = post(partner_client, data, "submit")
    assert "This form has expired" in response.content.decode()
    assert not reports(partner).exists()


def test_submitting_the_same_form_twice_records_one_report(partner_client, partner, stocked, book):
    data = {"token": token(partner_client), f"sold_{book.pk}": "1"}
    first = post(partner_client, data, "submit")
    second = post(partner_client, data, "submit", follow=True)
    assert first.status_code == 302
    assert reports(partner).count() == 1
    assert "was already sent" in second.content.decode()
    assert second.redirect_chain[-1][0] == first["Location"]
    assert stock_quantities_for_partner(partner=partner)[book.pk] == 4


def test_a_form_from_a_second_tab_is_refused_after_the_first_is_sent(
    partner_client, partner, stocked, book
):
    tab1, tab2 = token(partner_client), token(partner_client)
    post(partner_client, {"token": tab1, f"sold_{book.pk}": "1"}, "submit")
    response = post(partner_client, {"token": tab2, f"sold_{book.pk}": "2"}, "review", follow=True)
    assert "was already sent" in response.content.decode()
    post(partner_client, {"token": tab2, f"sold_{book.pk}": "2"}, "submit")
    assert reports(partner).count() == 1


def test_a_voided_report_does_not_unlock_an_old_form(partner_client, partner, stocked, book):
    old = token(partner_client)
    report = submit_report(partner, (book, 1))
    report_void(report=report, by=AdminUserFactory(), reason="Erreur")
    post(partner_client, {"token": old, f"sold_{book.pk}": "1"}, "submit")
    assert reports(partner).count() == 1


def test_report_page_of_another_partner_is_not_found(partner_client, other_partner, book):
    delivered_order(other_partner, (book, 2))
    report = submit_report(other_partner, (book, 1))
    url = reverse("operations:report_detail", args=[report.pk])
    assert partner_client.get(url).status_code == 404


def test_an_order_is_not_a_report(partner_client, stocked):
    url = reverse("operations:report_detail", args=[stocked.pk])
    assert partner_client.get(url).status_code == 404


def test_a_voided_report_shows_who_and_why(partner_client, partner, stocked, book):
    report = submit_report(partner, (book, 1))
    report_void(report=report, by=AdminUserFactory(full_name="Vera Void"), reason="Doublon")
    body = partner_client.get(
        reverse("operations:report_detail", args=[report.pk])
    ).content.decode()
    assert "Voided" in body and "Vera Void" in body and "Doublon" in body


def test_report_pages_run_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    grow_history(partner, 10, admin=admin_user)
    report = reports(partner).order_by("-pk").first()
    urls = [NEW, reverse("operations:report_detail", args=[report.pk])]
    small = [query_count(partner_client, url) for url in urls]
    grow_history(partner, 500, admin=admin_user)
    report = reports(partner).order_by("-pk").first()
    urls = [NEW, reverse("operations:report_detail", args=[report.pk])]
    big = [query_count(partner_client, url) for url in urls]
    assert small == big
    assert max(big) <= 10


def test_amount_due_is_rounded_as_in_the_partner_figures(partner_client, partner, stocked, book):
    from operations.selectors import partner_figures

    # 3 × 12.50 = 37.50 at 35 %: due 24.375, rounded half up to 24.38 everywhere.
    data = {"token": token(partner_client), f"sold_{book.pk}": "3"}
    summary = post(partner_client, data, "review").context["summary"]
    assert (summary["due"], summary["commission"]) == (Decimal("24.38"), Decimal("13.12"))
    response = post(partner_client, data, "submit", follow=True)
    assert response.context["due"] == Decimal("24.38")
    assert partner_figures(partner=partner).amount_due == Decimal("24.38")
