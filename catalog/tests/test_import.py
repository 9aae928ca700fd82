from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.imports import parse_books_csv, parse_price, stash_upload
from catalog.models import Book, Series
from catalog.services import books_import
from catalog.tests.factories import BookFactory, SeriesFactory, make_isbn

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:catalog_book_import")
NANA, GERMINAL, ASSOMMOIR = make_isbn(1), make_isbn(2), make_isbn(3)


def hyphenated(isbn):
    return f"{isbn[:3]}-{isbn[3]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"


def upload(client, text: str, *, bom=False, encoding="utf-8"):
    data = ("\ufeff" if bom else "") + text
    file = SimpleUploadedFile("books.csv", data.encode(encoding), content_type="text/csv")
    return client.post(IMPORT, {"file": file})


def confirm(client, response):
    return client.post(
        IMPORT, {"confirm": "1", "upload": response.context["confirm_form"].initial["upload"]}
    )


GOOD = (
    "ISBN;Titre;Auteurs;Série;Prix\n"
    f"{hyphenated(NANA)};Nana;Émile Zola;Les Rougon-Macquart;12,50\n"
    f'{GERMINAL};"Germinal; roman";Émile Zola;Les Rougon-Macquart;9.90\n'
    f"{ASSOMMOIR};L'Assommoir;Émile Zola;;8\n"
)


@pytest.mark.parametrize(
    ("raw", "price"),
    [("12,50", "12.50"), ("12.5", "12.50"), ("8", "8.00"), (" 7,00 € ", "7.00")],
)
def test_prices_take_a_dot_or_a_comma(raw, price):
    assert parse_price(raw) == Decimal(price)


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1,234", "12.555", "1e3x", "NaN", "9999999"])
def test_bad_prices_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_price(raw)


def test_a_good_file_previews_then_imports_in_one_step(admin_client):
    response = upload(admin_client, GOOD, bom=True)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.is_valid and preview.to_create == 3
    assert Book.objects.count() == 0  # nothing written before the confirmation

    response = confirm(admin_client, response)
    assert response.status_code == 302
    nana = Book.objects.get(isbn=NANA)
    assert nana.title == "Nana" and nana.price == Decimal("12.50")
    assert nana.series.name == "Les Rougon-Macquart"
    assert Book.objects.get(isbn=GERMINAL).title == "Germinal; roman"
    assert Book.objects.get(isbn=ASSOMMOIR).series is None
    assert Series.objects.count() == 1


def test_a_comma_separated_file_without_bom_is_read(admin_client):
    text = (
        "isbn,title,authors,series,price\n"
        f'{NANA},Nana,Émile Zola,Rougon,"12,50"\n'
        f"{GERMINAL},Germinal,Émile Zola,,9.90\n"
    )
    response = upload(admin_client, text)
    preview = response.context["preview"]
    assert preview.is_valid
    assert [row.price for row in preview.rows] == [Decimal("12.50"), Decimal("9.90")]


def test_existing_books_are_updated_by_isbn(admin_client):
    old_series = SeriesFactory(name="Ancienne")
    BookFactory(isbn=NANA, title="Nana (old)", price=Decimal("5.00"), series=old_series)
    response = upload(admin_client, GOOD)
    assert response.context["preview"].to_update == 1
    confirm(admin_client, response)
    nana = Book.objects.get(isbn=NANA)
    assert nana.title == "Nana" and nana.price == Decimal("12.50")
    assert nana.series.name == "Les Rougon-Macquart"
    assert Book.objects.count() == 3


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("9782070368229;Nana;Zola;;12,50", "check digit"),
        (f"{NANA};Nana;Zola;;douze", "not a price"),
        (f"{NANA};;Zola;;12,50", "title is missing"),
        (f"{hyphenated(GERMINAL)};Doublon;Zola;;3", "already appears on line 2"),
    ],
)
def test_a_bad_row_writes_nothing_and_is_named(admin_client, bad_line, message):
    text = f"ISBN;title;authors;series;price\n{GERMINAL};Germinal;Zola;Rougon;9,90\n{bad_line}\n"
    response = upload(admin_client, text)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.is_valid
    assert [row.line for row in preview.bad_rows] == [3]
    assert any(message in error for error in preview.bad_rows[0].errors)
    assert "Line 3:" in response.text
    assert 'name="confirm"' not in response.text
    assert Book.objects.count() == 0 and Series.objects.count() == 0


def test_several_bad_rows_are_each_named(admin_client):
    text = (
        "ISBN;title;authors;series;price\n"
        "123;A;Zola;;1\n"
        f"{NANA};B;Zola;;0\n"
        f"{GERMINAL};C;Zola;;2\n"
        f"{NANA};D;;;3\n"
    )
    preview = upload(admin_client, text).context["preview"]
    assert {row.line: len(row.errors) for row in preview.bad_rows} == {2: 1, 3: 1, 5: 2}
    assert Book.objects.count() == 0


def test_a_confirmation_with_bad_rows_writes_nothing(admin_client, admin_user):
    text = f"ISBN;title;authors;series;price\n{NANA};Nana;Zola;;abc\n"
    token = stash_upload(text, user_id=admin_user.pk)
    response = admin_client.post(IMPORT, {"confirm": "1", "upload": token})
    assert response.status_code == 200
    assert Book.objects.count() == 0


@pytest.mark.parametrize("token", ["", "../../etc/passwd", "x" * 40, "\x00" * 30])
def test_a_forged_or_expired_confirmation_asks_for_the_file_again(admin_client, token):
    response = admin_client.post(IMPORT, {"confirm": "1", "upload": token}, follow=True)
    assert response.status_code == 200
    assert "upload the file again" in response.content.decode()
    assert Book.objects.count() == 0


def test_another_admins_preview_cannot_be_confirmed(admin_client, partner):
    token = stash_upload(GOOD, user_id=partner.user.pk)
    admin_client.post(IMPORT, {"confirm": "1", "upload": token})
    assert Book.objects.count() == 0


def test_a_valid_file_of_four_megabytes_is_previewed_then_imported(admin_client):
    title, authors = "Un titre assez long pour peser " * 8, "Émile Zola et quelques amis, " * 8
    rows = [f"{make_isbn(n)};{title}{n};{authors};;9.90" for n in range(6000)]
    text = "ISBN;Titre;Auteurs;Série;Prix\n" + "\n".join(rows) + "\n"
    assert 2.5 * 1024 * 1024 < len(text.encode()) < 5 * 1024 * 1024
    response = upload(admin_client, text)
    assert response.context["preview"].is_valid
    response = confirm(admin_client, response)
    assert response.status_code == 302
    assert Book.objects.count() == 6000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("ISBN;title\n9782070368228;Nana\n", "lacks the column"),
        ("ISBN;title;authors;series;price\n", "no book"),
    ],
)
def test_file_level_errors(text, message):
    preview = parse_books_csv(text)
    assert not preview.is_valid
    assert any(message in error for error in preview.errors)


def test_a_file_that_is_not_utf8_is_refused(admin_client):
    response = upload(
        admin_client, "ISBN;title;authors;series;price\nx;Cœur;É;;1\n", encoding="cp1252"
    )
    assert response.status_code == 200
    assert "UTF-8" in response.text
    assert response.context["preview"] is None


def test_the_service_refuses_rows_with_errors_and_writes_nothing():
    preview = parse_books_csv(f"ISBN;title;authors;series;price\n{NANA};Nana;Zola;Neuve;abc\n")
    with pytest.raises(ValidationError, match="Rows with errors: 2"):
        books_import(rows=preview.rows)
    assert Series.objects.count() == 0


def test_the_changelist_links_to_the_import(admin_client):
    response = admin_client.get(reverse("admin:catalog_book_changelist"))
    assert IMPORT in response.text
