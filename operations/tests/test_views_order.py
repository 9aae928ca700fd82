from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from catalog.tests.factories import BookFactory
from operations.models import Kind, Operation, Status
from operations.services import order_approve
from operations.tests.factories import delivered_order, place_order, submit_report
from operations.tests.portal_data import grow_history, query_count

pytestmark = pytest.mark.django_db

NEW = reverse("operations:order_new")
ADD = reverse("operations:order_add")
UPDATE = reverse("operations:order_update")


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", authors="Victor Hugo", price=Decimal("12.50"))


@pytest.fixture
def book2(db):
    return BookFactory(title="Germinal", authors="Émile Zola", price=Decimal("9.90"))


def draft_of(client, partner):
    return dict(client.session.get(f"order_draft:{partner.pk}", {}).get("lines", []))


def add(client, book, copies=1, **extra):
    return client.post(ADD, {"book": book.pk, "copies": copies}, **extra)


def orders(partner):
    return Operation.objects.filter(partner=partner, kind=Kind.ORDER)


# -- the page ------------------------------------------------------------------------------


def test_new_order_page_shows_an_empty_draft_and_a_search(partner_client):
    response = partner_client.get(NEW)
    assert response.status_code == 200
    assert b'name="q"' in response.content
    assert "Your order is empty" in response.content.decode()


def test_search_lists_matching_books_with_an_add_button(partner_client, book, book2):
    response = partner_client.get(NEW, {"q": "zola"})
    body = response.content.decode()
    assert "Germinal" in body
    assert "Les Misérables" not in body
    assert f'name="book" value="{book2.pk}"' in body


def test_search_as_you_type_returns_only_the_results_fragment(partner_client, book):
    response = partner_client.get(
        NEW, {"q": "misér"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="book-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="book-results"')
    assert "Les Misérables" in body
    assert "<html" not in body


def test_search_finds_a_book_by_isbn(partner_client, book):
    response = partner_client.get(NEW, {"q": book.isbn})
    assert "Les Misérables" in response.content.decode()


def test_retired_books_are_not_offered(partner_client):
    BookFactory(title="Épuisé", is_active=False)
    response = partner_client.get(NEW, {"q": "Épuisé"})
    assert "No book matches" in response.content.decode()


# -- the draft -------------------------------------------------------------------------------


def test_adding_a_book_puts_it_in_the_draft_without_writing_an_operation(
    partner_client, partner, book
):
    response = add(partner_client, book, 2)
    assert response.status_code == 302
    assert draft_of(partner_client, partner) == {book.pk: 2}
    assert not Operation.objects.exists()
    page = partner_client.get(NEW).content.decode()
    assert "Les Misérables" in page
    assert f'name="copies_{book.pk}" id="id_copies_{book.pk}" value="2"' in page


def test_adding_the_same_book_twice_merges_the_lines(partner_client, partner, book):
    add(partner_client, book, 2)
    add(partner_client, book, 3)
    assert draft_of(partner_client, partner) == {book.pk: 5}


def test_adding_with_htmx_returns_the_lines_fragment_with_totals(partner_client, book, book2):
    add(partner_client, book, 2)
    response = add(partner_client, book2, 1, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="order-lines"')
    assert "2 titles" in body and "3 copies" in body
    assert "€34.90" in body


def test_adding_with_htmx_also_updates_the_search_results_note(partner_client, book):
    add(partner_client, book, 2)
    body = add(partner_client, book, 1, HTTP_HX_REQUEST="true").content.decode()
    note = f'<span id="in-draft-{book.pk}" class="small text-success" hx-swap-oob="true">'
    assert note + "3 in your order</span>" in body
    page = partner_client.get(NEW, {"q": book.title[:5]}).content.decode()
    assert f'<span id="in-draft-{book.pk}" class="small text-success">3 in your order' in page
    assert "hx-swap-oob" not in page


def test_adding_from_the_catalogue_with_htmx_returns_a_short_confirmation(partner_client, book):
    response = partner_client.post(
        ADD, {"book": book.pk, "copies": 1, "from": "catalogue"}, HTTP_HX_REQUEST="true"
    )
    assert "Added: 1 in your order" in response.content.decode()


def test_adding_goes_back_to_a_safe_next_url_only(partner_client, book):
    response = partner_client.post(ADD, {"book": book.pk, "next": "/catalogue/?q=x"})
    assert response["Location"] == "/catalogue/?q=x"
    response = partner_client.post(ADD, {"book": book.pk, "next": "https://evil.example/"})
    assert response["Location"] == NEW


@pytest.mark.parametrize(
    "data",
    [
        {"book": "abc", "copies": "1"},
        {"book": "999999", "copies": "1"},
        {"book": "-1", "copies": "1"},
        {"book": "99999999999999999999999", "copies": "1"},
        {"copies": "1"},
        {"book": "BOOK", "copies": "two"},
        {"book": "BOOK", "copies": "-3"},
        {"book": "BOOK", "copies": "0"},
        {"book": "BOOK", "copies": "10000"},
        {"book": "BOOK", "copies": "99999999999999999999999999"},
        {"book": "BOOK", "copies": "1.5"},
    ],
)
def test_bad_additions_are_refused_with_a_message(partner_client, partner, book, data):
    data = {k: (str(book.pk) if v == "BOOK" else v) for k, v in data.items()}
    response = partner_client.post(ADD, data, follow=True)
    assert response.status_code == 200
    assert draft_of(partner_client, partner) == {}
    assert list(response.context["messages"])
    response = partner_client.post(ADD, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert draft_of(partner_client, partner) == {}


def test_a_retired_book_cannot_be_added(partner_client, partner):
    retired = BookFactory(is_active=False)
    response = add(partner_client, retired, 1, follow=True)
    assert "no longer available" in response.content.decode()
    assert draft_of(partner_client, partner) == {}


def test_a_line_cannot_grow_past_the_maximum(partner_client, partner, book):
    add(partner_client, book, 9000)
    response = add(partner_client, book, 1000, follow=True)
    assert "at most 9999" in response.content.decode()
    assert draft_of(partner_client, partner) == {book.pk: 9000}


def test_updating_quantities_and_removing_a_line(partner_client, partner, book, book2):
    add(partner_client, book, 1)
    add(partner_client, book2, 1)
    response = partner_client.post(
        UPDATE, {f"copies_{book.pk}": "4", f"copies_{book2.pk}": "1", "note": "Merci"}
    )
    assert response.status_code == 302
    assert draft_of(partner_client, partner) == {book.pk: 4, book2.pk: 1}
    response = partner_client.post(
        UPDATE,
        {f"copies_{book.pk}": "4", f"copies_{book2.pk}": "1", "remove": str(book2.pk)},
        HTTP_HX_REQUEST="true",
    )
    assert draft_of(partner_client, partner) == {book.pk: 4}
    assert "Germinal" not in response.content.decode()
    assert "€50.00" in response.content.decode()


def test_zero_copies_removes_a_line(partner_client, partner, book, book2):
    add(partner_client, book, 1)
    add(partner_client, book2, 1)
    partner_client.post(UPDATE, {f"copies_{book.pk}": "0", f"copies_{book2.pk}": "2"})
    assert draft_of(partner_client, partner) == {book2.pk: 2}


@pytest.mark.parametrize("bad", ["abc", "-1", "10000", "1e3", "99999999999999999999999"])
def test_a_bad_quantity_is_shown_next_to_its_line_and_changes_nothing(
    partner_client, partner, book, book2, bad
):
    add(partner_client, book, 1)
    add(partner_client, book2, 1)
    for url in (UPDATE, NEW):
        response = partner_client.post(url, {f"copies_{book.pk}": bad, f"copies_{book2.pk}": "2"})
        body = response.content.decode()
        assert response.status_code == 200
        assert f'aria-describedby="id_copies_{book.pk}-error"' in body
        assert f'id="id_copies_{book.pk}-error"' in body
        assert f'aria-describedby="id_copies_{book2.pk}-error"' not in body
        assert draft_of(partner_client, partner) == {book.pk: 1, book2.pk: 1}
    assert not Operation.objects.exists()


def test_tampered_line_fields_are_ignored(partner_client, partner, book, book2):
    add(partner_client, book, 1)
    response = partner_client.post(
        NEW, {f"copies_{book.pk}": "2", f"copies_{book2.pk}": "7", "copies_abc": "1"}
    )
    order = orders(partner).get()
    assert response.status_code == 302
    assert {i.book_id: i.quantity for i in order.items.all()} == {book.pk: 2}


def test_a_draft_with_an_unknown_book_in_the_session_is_cleaned(partner_client, partner, book):
    session = partner_client.session
    session[f"order_draft:{partner.pk}"] = {"lines": [[book.pk, 2], [999999, 3], ["x", 1]]}
    session.save()
    response = partner_client.get(NEW)
    assert response.status_code == 200
    assert "Les Misérables" in response.content.decode()


# -- placing the order -------------------------------------------------------------------------


def test_placing_the_order_creates_it_and_leads_to_its_page(partner_client, partner, book, book2):
    add(partner_client, book, 2)
    add(partner_client, book2, 1)
    response = partner_client.post(
        NEW, {f"copies_{book.pk}": "3", f"copies_{book2.pk}": "1", "note": "Pour Noël"}
    )
    order = orders(partner).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("operations:order_detail", args=[order.pk])
    assert order.status == Status.PENDING
    assert order.partner_note == "Pour Noël"
    assert {i.book_id: i.quantity for i in order.items.all()} == {book.pk: 3, book2.pk: 1}
    assert draft_of(partner_client, partner) == {}


def test_placing_with_htmx_redirects_the_browser(partner_client, partner, book):
    add(partner_client, book, 2)
    response = partner_client.post(NEW, {f"copies_{book.pk}": "2"}, HTTP_HX_REQUEST="true")
    order = orders(partner).get()
    assert response["HX-Redirect"] == reverse("operations:order_detail", args=[order.pk])


def test_an_empty_order_is_refused(partner_client, partner):
    response = partner_client.post(NEW, {"note": "rien"})
    assert response.status_code == 200
    assert "Add at least one book" in response.content.decode()
    assert not Operation.objects.exists()


def test_sending_the_order_twice_creates_one_order(partner_client, partner, book):
    add(partner_client, book, 2)
    first = partner_client.post(NEW, {f"copies_{book.pk}": "2"})
    second = partner_client.post(NEW, {f"copies_{book.pk}": "2"}, follow=True)
    assert first.status_code == 302
    assert orders(partner).count() == 1
    assert "waiting for approval" in second.content.decode()


def test_a_book_retired_after_it_was_added_is_flagged_on_its_line(partner_client, partner, book):
    add(partner_client, book, 2)
    book.is_active = False
    book.save()
    response = partner_client.post(NEW, {f"copies_{book.pk}": "2"})
    body = response.content.decode()
    assert f'id="id_copies_{book.pk}-error"' in body
    assert "no longer available" in body
    assert not Operation.objects.exists()


def test_a_note_that_is_too_long_is_refused(partner_client, partner, book):
    add(partner_client, book, 1)
    response = partner_client.post(NEW, {f"copies_{book.pk}": "1", "note": "x" * 2001})
    assert 'id="note-error"' in response.content.decode()
    assert not Operation.objects.exists()


def test_get_never_changes_anything(partner_client, partner, book):
    assert partner_client.get(ADD, {"book": book.pk}).status_code == 405
    assert partner_client.get(UPDATE).status_code == 405
    assert draft_of(partner_client, partner) == {}


# -- when ordering is blocked --------------------------------------------------------------------


def test_with_an_open_order_the_page_explains_and_links_to_it(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    response = partner_client.get(NEW)
    body = response.content.decode()
    assert "waiting for approval" in body
    assert reverse("operations:order_detail", args=[order.pk]) in body
    assert 'name="q"' not in body


def test_after_a_delivery_the_page_asks_for_a_report(partner_client, partner, book):
    delivered_order(partner, (book, 3))
    response = partner_client.get(NEW)
    body = response.content.decode()
    assert "Report your sales" in body
    assert reverse("operations:report_new") in body


def test_posting_while_blocked_writes_nothing(partner_client, partner, book):
    delivered_order(partner, (book, 3))
    for url, data in ((ADD, {"book": book.pk}), (UPDATE, {}), (NEW, {})):
        response = partner_client.post(url, data, follow=True)
        assert response.status_code == 200
    assert orders(partner).count() == 1
    assert draft_of(partner_client, partner) == {}


def test_ordering_opens_again_after_a_report(partner_client, partner, book):
    delivered_order(partner, (book, 3))
    submit_report(partner, (book, 1))
    assert b'name="q"' in partner_client.get(NEW).content


# -- the order page ------------------------------------------------------------------------------


def test_order_page_shows_lines_totals_and_history(partner_client, partner, book, book2):
    admin = AdminUserFactory(full_name="Paul Publisher")
    order = place_order(partner, (book, 2), (book2, 1), note="Vite")
    order_approve(order=order, by=admin)
    response = partner_client.get(reverse("operations:order_detail", args=[order.pk]))
    body = response.content.decode()
    assert order.reference in body
    assert "Les Misérables" in body and "Germinal" in body
    assert "€34.90" in body
    assert "Approved on" in body and "Paul Publisher" in body
    assert "Vite" in body
    assert "Cancel this order" not in body


def test_order_page_polls_while_the_order_is_open_and_serves_a_fragment(
    partner_client, partner, book
):
    order = place_order(partner, (book, 1))
    url = reverse("operations:order_detail", args=[order.pk])
    assert 'hx-trigger="every 30s"' in partner_client.get(url).content.decode()
    response = partner_client.get(url, HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<section id="order-status"')


def test_another_partners_order_is_not_found(partner_client, other_partner, book):
    order = place_order(other_partner, (book, 1))
    for name in ("operations:order_detail", "operations:order_cancel"):
        assert partner_client.get(reverse(name, args=[order.pk])).status_code == 404
    assert (
        partner_client.post(reverse("operations:order_cancel", args=[order.pk])).status_code == 404
    )
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_a_report_is_not_an_order(partner_client, partner, book):
    delivered_order(partner, (book, 2))
    report = submit_report(partner, (book, 1))
    assert (
        partner_client.get(reverse("operations:order_detail", args=[report.pk])).status_code == 404
    )


# -- cancelling -----------------------------------------------------------------------------------


def test_cancel_asks_for_confirmation_then_cancels(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    url = reverse("operations:order_cancel", args=[order.pk])
    response = partner_client.get(url)
    assert "Yes, cancel this order" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING
    response = partner_client.post(url)
    assert response["Location"] == reverse("operations:order_detail", args=[order.pk])
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert order.closed_by == partner.user


def test_cancel_with_htmx_redirects_the_browser(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    response = partner_client.post(
        reverse("operations:order_cancel", args=[order.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("operations:order_detail", args=[order.pk])


def test_an_approved_order_cannot_be_cancelled(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    order_approve(order=order, by=AdminUserFactory())
    url = reverse("operations:order_cancel", args=[order.pk])
    assert partner_client.get(url).status_code == 302
    response = partner_client.post(url, follow=True)
    assert "only a pending order can be cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.APPROVED


def test_cancelling_twice_is_harmless(partner_client, partner, book):
    order = place_order(partner, (book, 1))
    url = reverse("operations:order_cancel", args=[order.pk])
    partner_client.post(url)
    response = partner_client.post(url, follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Status.CANCELLED


# -- query counts ---------------------------------------------------------------------------------


def test_order_pages_run_the_same_queries_with_10_or_500_rows(partner_client, partner, admin_user):
    delivered = grow_history(partner, 10, admin=admin_user)
    urls = [
        NEW + "?q=Titre",
        reverse("operations:order_detail", args=[delivered.pk]),
    ]
    small = [query_count(partner_client, url) for url in urls]
    big_delivered = grow_history(partner, 500, admin=admin_user)
    big = [query_count(partner_client, url) for url in urls[:1]]
    big.append(
        query_count(partner_client, reverse("operations:order_detail", args=[big_delivered.pk]))
    )
    assert small == big
    assert max(big) <= 12


def test_enter_in_a_quantity_updates_rather_than_removes_or_sends(partner_client, book):
    add(partner_client, book, 1)
    body = partner_client.get(NEW).content.decode()
    lines_form = body.split('<section id="order-lines"')[1]
    first_submit = lines_form.split('type="submit"')[1].split(">")[0]
    assert f'formaction="{UPDATE}"' in first_submit
    assert 'name="remove"' not in first_submit
