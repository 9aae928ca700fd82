"""The sales report for a shop holding hundreds of titles: three ways to fill the draft
(title by title, ISBN scans, a till export), one summary, one `report_submit`."""

import io
from decimal import Decimal

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Book
from catalog.tests.factories import BookFactory, make_isbn
from operations.models import Kind, Operation
from operations.tests.factories import delivered_order, request_return
from operations.tests.portal_data import grow_history, query_count
from operations.till_import import MAX_BYTES, MAX_ROWS

pytestmark = pytest.mark.django_db

NEW = reverse("operations:report_new")
SCAN = reverse("operations:report_scan")
IMPORT = reverse("operations:report_import")
REVIEW = reverse("operations:report_review")


@pytest.fixture
def books(db):
    return {
        "hugo": BookFactory(title="Les Misérables", price=Decimal("12.50"), isbn=make_isbn(111)),
        "zola": BookFactory(title="Germinal", price=Decimal("10.00"), isbn=make_isbn(222)),
        "sand": BookFactory(title="La Mare au diable", price=Decimal("8.00"), isbn=make_isbn(333)),
    }


@pytest.fixture
def stocked(partner, books):
    """Alice holds 5 Misérables, 3 Germinal and 2 Mare au diable."""
    partner.commission_rate = Decimal("35")
    partner.save()
    return delivered_order(partner, (books["hugo"], 5), (books["zola"], 3), (books["sand"], 2))


def reports(partner):
    return Operation.objects.filter(partner=partner, kind=Kind.REPORT)


def isbn10(isbn13: str) -> str:
    body = isbn13[3:12]
    total = sum((10 - i) * int(d) for i, d in enumerate(body))
    check = (11 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def send_summary(client):
    """Open the summary of the draft and press "Send this report"."""
    review = client.get(REVIEW)
    assert review.status_code == 200
    data = {
        "token": review.context["token"],
        "digest": review.context["digest"],
        "note": review.context["note"],
        "action": "submit",
    }
    return client.post(NEW, data)


def items_of(partner):
    report = reports(partner).get()
    return sorted((item.book.title, -item.quantity) for item in report.items.all())


EXPECTED = [("Germinal", 1), ("Les Misérables", 2)]


# -- the three ways end in the same report ----------------------------------------------------


def test_title_by_title_then_summary_records_the_report(partner_client, partner, stocked, books):
    page = partner_client.get(NEW)
    data = {
        "token": page.context["form"]["token"].value(),
        "shown": page.context["shown"],
        f"sold_{books['hugo'].pk}": "2",
        f"shelf_{books['zola'].pk}": "2",
        f"sold_{books['sand'].pk}": "",
        "action": "save",
    }
    assert partner_client.post(NEW, data).status_code == 302
    response = send_summary(partner_client)
    assert response.status_code == 302
    assert items_of(partner) == EXPECTED


def test_scans_then_summary_record_the_same_report(partner_client, partner, stocked, books):
    hugo, zola = books["hugo"].isbn, books["zola"].isbn
    for isbn in (hugo, f"{zola[:3]}-{zola[3:5]}-{zola[5:12]}-{zola[12]}", isbn10(hugo)):
        response = partner_client.post(SCAN, {"isbn": isbn}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "alert-success" in response.text
    assert "Les Misérables: 2 sold." in response.text
    send_summary(partner_client)
    assert items_of(partner) == EXPECTED


def csv_upload(text, name="ventes.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_upload(rows, name="ventes.xlsx"):
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Ventes")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return SimpleUploadedFile(name, buffer.getvalue())


def import_and_confirm(client, upload):
    preview = client.post(IMPORT, {"file": upload})
    assert preview.status_code == 200
    assert preview.context["form"].errors == {}
    confirm = client.post(IMPORT, {"action": "confirm"})
    assert confirm.status_code == 302 and confirm["Location"] == REVIEW
    return preview


@pytest.mark.parametrize(
    "make_upload",
    [
        # A French till: `;`, accented header names, a ticket line per sale (added up).
        lambda b: csv_upload(
            "Export caisse du 01/12\nEAN;Désignation;Qté vendue\n"
            f"{b['hugo'].isbn};Les Misérables;1\n{b['zola'].isbn};Germinal;1\n"
            f"{b['hugo'].isbn};Les Misérables;1\n",
            encoding="cp1252",
        ),
        lambda b: csv_upload(f"isbn,title,copies\n{b['hugo'].isbn},x,2\n{b['zola'].isbn},y,1\n"),
        lambda b: xlsx_upload(
            [["ISBN", "Titre", "Quantité"], [b["hugo"].isbn, "x", 2], [int(b["zola"].isbn), "y", 1]]
        ),
    ],
    ids=["csv-fr", "csv-en", "xlsx"],
)
def test_a_till_export_then_summary_records_the_same_report(
    partner_client, partner, stocked, books, make_upload
):
    preview = import_and_confirm(partner_client, make_upload(books))
    assert preview.context["preview"].refused == []
    assert "3 sold of 2 titles, ready to add to your report" in preview.text
    send_summary(partner_client)
    assert items_of(partner) == EXPECTED


# -- the title-by-title form, page by page ----------------------------------------------------


@pytest.fixture
def shelf_of_60(partner, admin_user):
    grow_history(partner, 60, admin=admin_user)  # Titre 01-0000 … 0059, 5 copies (one sold)
    return list(Book.objects.filter(title__startswith="Titre").order_by("title"))


def test_the_report_form_shows_50_titles_a_page(partner_client, shelf_of_60):
    page = partner_client.get(NEW)
    assert len(page.context["form"].rows()) == 50
    assert "1–50 of 60 titles" in page.text
    assert 'name="goto" value="2"' in page.text
    assert len(partner_client.get(NEW, {"page": "2"}).context["form"].rows()) == 10


def test_changing_page_keeps_what_was_entered(partner_client, partner, shelf_of_60):
    first, last = shelf_of_60[0], shelf_of_60[-1]
    page = partner_client.get(NEW)
    token = page.context["form"]["token"].value()
    response = partner_client.post(
        NEW, {"token": token, "shown": "", f"sold_{first.pk}": "1", "goto": "2", "page": "1"}
    )
    assert response["Location"] == NEW + "?page=2"
    second = partner_client.get(response["Location"])
    assert f'name="sold_{last.pk}"' in second.text
    partner_client.post(
        NEW, {"token": token, "shown": "", f"sold_{last.pk}": "2", "action": "review"}
    )
    summary = partner_client.get(REVIEW).context["summary"]
    assert [(line["title"], line["sold"]) for line in summary["lines"]] == [
        (first.title, 1),
        (last.title, 2),
    ]
    # Back on page 1, the copies entered are shown again.
    assert f'id="id_sold_{first.pk}" value="1"' in partner_client.get(NEW).text


def test_the_report_form_searches_titles_and_keeps_the_page_entries(partner_client, stocked, books):
    token = partner_client.get(NEW).context["form"]["token"].value()
    data = {"token": token, "shown": "", f"sold_{books['hugo'].pk}": "1", "q": "germ"}
    response = partner_client.post(NEW, {**data, "action": "search"}, HTTP_HX_REQUEST="true")
    assert response.text.lstrip().startswith('<div id="report"')
    rows = response.context["form"].rows()
    assert [row["book__title"] for row in rows] == ["Germinal"]
    assert "Your report so far: 1 sold, 1 title." in response.text


def test_saving_a_page_does_not_undo_a_scan_made_meanwhile(partner_client, stocked, books):
    page = partner_client.get(NEW)  # shows nothing sold
    partner_client.post(SCAN, {"isbn": books["zola"].isbn})  # another tab
    data = {
        "token": page.context["form"]["token"].value(),
        "shown": page.context["shown"],
        f"sold_{books['hugo'].pk}": "2",
        f"sold_{books['zola'].pk}": "",
        "action": "review",
    }
    summary = partner_client.post(NEW, data).context["summary"]
    assert [(line["title"], line["sold"]) for line in summary["lines"]] == EXPECTED


def test_clearing_a_line_removes_it_from_the_report(partner_client, stocked, books):
    partner_client.post(SCAN, {"isbn": books["zola"].isbn})
    page = partner_client.get(NEW)
    assert page.context["shown"] == f"{books['zola'].pk}:1"
    data = {
        "token": page.context["form"]["token"].value(),
        "shown": page.context["shown"],
        f"sold_{books['zola'].pk}": "",
        "action": "save",
    }
    partner_client.post(NEW, data)
    assert partner_client.get(REVIEW).status_code == 302  # nothing left to review


def test_a_summary_changed_in_another_tab_is_shown_again_not_sent(
    partner_client, partner, stocked, books
):
    partner_client.post(SCAN, {"isbn": books["hugo"].isbn})
    review = partner_client.get(REVIEW)
    partner_client.post(SCAN, {"isbn": books["zola"].isbn})  # another tab
    data = {"token": review.context["token"], "digest": review.context["digest"]}
    response = partner_client.post(NEW, {**data, "action": "submit"})
    assert response.status_code == 200
    assert "Your report changed since this summary was shown" in response.text
    assert [line["title"] for line in response.context["summary"]["lines"]] == [
        "Germinal",
        "Les Misérables",
    ]
    assert not reports(partner).exists()


def test_nothing_sold_records_an_empty_report_even_with_a_draft(
    partner_client, partner, stocked, books
):
    partner_client.post(SCAN, {"isbn": books["hugo"].isbn})
    token = partner_client.get(NEW).context["form"]["token"].value()
    review = partner_client.post(NEW, {"token": token, "nothing": "on", "action": "review"})
    assert "nothing was sold" in review.text
    partner_client.post(NEW, {"token": token, "nothing": "on", "action": "submit"})
    assert not reports(partner).get().items.exists()
    assert partner_client.get(REVIEW).status_code == 302  # the draft is gone with it


def test_the_draft_is_kept_per_partner(partner_client, client, partner, other_partner, stocked):
    bob_book = BookFactory(title="Chez Bob")
    delivered_order(other_partner, (bob_book, 2))
    partner_client.post(SCAN, {"isbn": bob_book.isbn})
    assert partner_client.get(REVIEW).status_code == 302
    client.force_login(other_partner.user)
    client.post(SCAN, {"isbn": bob_book.isbn})
    assert [line["title"] for line in client.get(REVIEW).context["summary"]["lines"]] == [
        "Chez Bob"
    ]


# -- scans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "isbn, message",
    [
        ("12345", "“12345” is not an ISBN"),
        ("9780000000000", "wrong check digit"),
        (make_isbn(999), f"No book with ISBN {make_isbn(999)} in the catalogue"),
        ("", "Scan or type an ISBN."),
    ],
)
def test_a_bad_scan_says_why_and_changes_nothing(partner_client, stocked, isbn, message):
    response = partner_client.post(SCAN, {"isbn": isbn}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in response.text and 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert partner_client.get(REVIEW).status_code == 302


def test_a_scan_of_a_title_not_held_is_refused(partner_client, stocked):
    stranger = BookFactory(title="Livre étranger")
    response = partner_client.post(SCAN, {"isbn": stranger.isbn}, HTTP_HX_REQUEST="true")
    assert "You hold no copies of Livre étranger: nothing was added." in response.text


def test_a_scan_beyond_the_free_copies_is_refused(partner_client, partner, stocked, books):
    request_return(partner, (books["sand"], 1))  # 2 held, 1 set aside: 1 for sale
    first = partner_client.post(SCAN, {"isbn": books["sand"].isbn}, HTTP_HX_REQUEST="true")
    assert "La Mare au diable: 1 sold." in first.text
    second = partner_client.post(SCAN, {"isbn": books["sand"].isbn}, HTTP_HX_REQUEST="true")
    assert (
        "La Mare au diable: you hold 2 copies, 1 of them set aside for a return, and the "
        "report already has 1 sold: nothing was added."
    ) in second.text
    lines = partner_client.get(REVIEW).context["summary"]["lines"]
    assert [(line["title"], line["sold"]) for line in lines] == [("La Mare au diable", 1)]


def test_scanning_without_javascript_redirects_with_the_message(partner_client, stocked, books):
    response = partner_client.post(SCAN, {"isbn": books["zola"].isbn}, follow=True)
    assert response.redirect_chain[-1][0] == SCAN
    assert "Germinal: 1 sold." in response.text
    assert "autofocus" in response.text


def test_one_fewer_takes_back_a_scan(partner_client, stocked, books):
    for _ in range(2):
        partner_client.post(SCAN, {"isbn": books["zola"].isbn})
    partner_client.post(SCAN, {"undo": str(books["zola"].pk)}, HTTP_HX_REQUEST="true")
    lines = partner_client.get(REVIEW).context["summary"]["lines"]
    assert [(line["title"], line["sold"]) for line in lines] == [("Germinal", 1)]
    partner_client.post(SCAN, {"undo": str(books["zola"].pk)})
    assert partner_client.get(REVIEW).status_code == 302


# -- a till export ----------------------------------------------------------------------------


def test_refused_lines_are_named_with_their_reason(partner_client, partner, stocked, books):
    request_return(partner, (books["sand"], 1))
    stranger = BookFactory(title="Livre étranger")
    text = (
        "ISBN;Quantité\n"
        f"{books['hugo'].isbn};2\n"  # line 2: accepted
        "978-2-07-036002-5;1\n"  # line 3: wrong check digit
        f"{make_isbn(999)};1\n"  # line 4: not in the catalogue
        f"{stranger.isbn};1\n"  # line 5: not held
        f"{books['zola'].isbn};abc\n"  # line 6: not a number
        f"{books['sand'].isbn};1\n"  # lines 7 and 8: 2 sold, 1 for sale
        f"{books['sand'].isbn};1\n"
        ";\n"  # blank: skipped
        f"{books['zola'].isbn};-1\n"  # line 10: a refund is not a sale
    )
    response = partner_client.post(IMPORT, {"file": csv_upload(text)})
    preview = response.context["preview"]
    assert [(line.title, line.copies) for line in preview.accepted] == [("Les Misérables", 2)]
    refused = {tuple(line.lines): line.reason for line in preview.refused}
    assert refused[(3,)].startswith("not an ISBN")
    assert refused[(4,)] == "no book with this ISBN in the catalogue"
    assert refused[(5,)] == "you hold no copies of Livre étranger"
    assert "“abc” is not a number of copies" in refused[(6,)]
    assert refused[(7, 8)] == (
        "2 copies of La Mare au diable sold, but you hold 2, 1 of them set aside for a return"
    )
    assert "“-1” is not a number of copies" in refused[(10,)]
    assert "6 lines refused" in response.text
    assert "Lines 7, 8 (" in response.text and "Line 4 (" in response.text
    # Confirming adds the accepted line only.
    partner_client.post(IMPORT, {"action": "confirm"})
    lines = partner_client.get(REVIEW).context["summary"]["lines"]
    assert [(line["title"], line["sold"]) for line in lines] == [("Les Misérables", 2)]


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "a.csv", "The submitted file is empty."),
        (b" \n", "a.csv", "The file is empty."),
        (b"titre;prix\nx;1\n", "a.csv", "No header row with an ISBN column and a copies column"),
        (b"PK\x03\x04garbage", "a.xlsx", "not a readable Excel (.xlsx) file"),
        (b"\x00\x01\x02" * 10, "a.csv", "not a CSV or Excel (.xlsx) file"),
        (b"x" * (MAX_BYTES + 1), "a.csv", "larger than 2 MB"),
        (("ISBN;Qty\n" + "9782070360024;1\n" * (MAX_ROWS + 1)).encode(), "a.csv", "more than"),
    ],
    ids=["empty", "blank", "no-header", "bad-xlsx", "binary", "too-large", "too-many-rows"],
)
def test_a_bad_file_gets_a_clear_message(partner_client, stocked, content, name, message):
    response = partner_client.post(IMPORT, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert message in response.text
    assert response.context["preview"] is None
    assert partner_client.post(IMPORT, {"action": "confirm"}).status_code == 302
    assert partner_client.get(REVIEW).status_code == 302  # nothing was added


def test_an_xlsx_with_a_dtd_is_refused(partner_client, stocked):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet/>',
        )
    upload = SimpleUploadedFile("a.xlsx", buffer.getvalue())
    response = partner_client.post(IMPORT, {"file": upload})
    assert "not a readable Excel (.xlsx) file" in response.text


def test_confirming_without_a_preview_changes_nothing(partner_client, stocked):
    response = partner_client.post(IMPORT, {"action": "confirm"}, follow=True)
    assert "Nothing to add: send the file again." in response.text


# -- query counts ---------------------------------------------------------------------------


def test_report_pages_run_the_same_queries_with_10_or_500_titles(
    partner_client, partner, admin_user
):
    def counts():
        first = Book.objects.filter(title__startswith="Titre").order_by("pk").first()
        partner_client.post(SCAN, {"isbn": first.isbn})
        return [
            query_count(partner_client, url)
            for url in (NEW, NEW + "?q=titre&page=2", SCAN, IMPORT, REVIEW)
        ]

    grow_history(partner, 10, admin=admin_user)
    small = counts()
    grow_history(partner, 500, admin=admin_user)
    big = counts()
    assert small == big
    assert max(big) <= 10


def test_posting_a_page_of_titles_runs_the_same_queries_with_10_or_500_titles(
    partner_client, partner, admin_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        page = partner_client.get(NEW)
        data = {
            "token": page.context["form"]["token"].value(),
            "shown": page.context["shown"],
            **{f"sold_{row['book_id']}": "" for row in page.context["form"].rows()},
            "action": "review",
        }
        with CaptureQueriesContext(connection) as ctx:
            assert partner_client.post(NEW, data).status_code == 200
        return len(ctx.captured_queries)

    grow_history(partner, 10, admin=admin_user)
    small = count()
    grow_history(partner, 500, admin=admin_user)
    assert count() == small <= 12


def test_a_line_the_stock_no_longer_allows_is_refused_on_the_summary(
    partner_client, partner, stocked, books
):
    partner_client.post(SCAN, {"isbn": books["sand"].isbn})
    review = partner_client.get(REVIEW)
    request_return(partner, (books["sand"], 2))  # meanwhile, both copies go into a return
    data = {"token": review.context["token"], "digest": review.context["digest"]}
    response = partner_client.post(NEW, {**data, "action": "submit"})
    assert response.status_code == 200
    assert "La Mare au diable: you hold 2 copies, 2 of them in an open return" in response.text
    assert response.context["summary"]["problems"]
    assert not reports(partner).exists()


def test_changing_page_under_htmx_answers_the_next_page_and_its_address(
    partner_client, shelf_of_60
):
    page = partner_client.get(NEW)
    data = {"token": page.context["form"]["token"].value(), "shown": "", "goto": "2"}
    response = partner_client.post(NEW, data, HTTP_HX_REQUEST="true")
    assert response.text.lstrip().startswith('<div id="report"')
    assert response.context["page"].number == 2
    assert response["HX-Push-Url"] == NEW + "?page=2"
