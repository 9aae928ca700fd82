"""Garbage into every portal and admin form and filter: never a server error (rule 9).

Each form's field names are read from its page, then posted with hostile values (NUL, huge
and negative numbers, unicode, very long text), each field doubled, and with every field
missing. Each filter and search parameter a list page links to gets the same values. The
test client raises any exception a view lets through, so a failure shows its traceback;
a 5xx answer fails too. Run on SQLite and on PostgreSQL (DATABASE_URL).
"""

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory, PartnerFactory, UserFactory
from catalog.tests.factories import BookFactory, SeriesFactory
from operations.models import Notification
from operations.services import order_approve
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

GARBAGE = [
    "\x00",
    "a\x00b",
    "9" * 40,
    "-" + "9" * 30,
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "1e309",
    "NaN",
    "🦊📚",
    "' OR 1=1 --",
    "x" * 5000,
    "",
]
# One parameter at a time gets the values most likely to break a query.
SHARP = ["\x00", "9" * 40, "-1", "🦊📚"]
SKIPPED_FIELDS = {"csrfmiddlewaretoken"}
NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.S)
HREF_QUERY = re.compile(r'href="(\?[^"#]*)"')


def assert_answered(response, what):
    assert response.status_code < 500, (what, response.status_code)
    if response.streaming:
        b"".join(response.streaming_content)  # a stream that fails midway fails here


def text_of(response) -> str:
    if response.streaming or "html" not in response.get("Content-Type", ""):
        return ""
    return response.content.decode()


def field_names(html: str) -> list[str]:
    names = {unescape(name) for name in NAME.findall(html)}
    return sorted(names - SKIPPED_FIELDS)


def hostile_posts(names: list[str]):
    """(label, data) for each hostile way of posting `names`."""
    yield "missing", {}
    for value in GARBAGE:
        yield f"all={value[:12]!r}", dict.fromkeys(names, value)
        yield f"doubled={value[:12]!r}", {name: [value, "1"] for name in names}


def fuzz_form(client, url, *, extra=None, htmx=False):
    page = client.get(url)
    assert_answered(page, url)
    names = field_names(text_of(page)) if page.status_code == 200 else []
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for label, data in hostile_posts(names or ["id"]):
        response = client.post(url, {**data, **(extra or {})}, **headers)
        assert_answered(response, (url, label))


def filter_parameters(html: str) -> set[str]:
    keys = set()
    for query in HREF_QUERY.findall(html):
        keys.update(key for key, _value in parse_qsl(unescape(query)[1:], keep_blank_values=True))
    return keys


def fuzz_filters(client, url, *, extra_keys=(), htmx=False):
    page = client.get(url)
    assert_answered(page, url)
    html = text_of(page)
    keys = filter_parameters(html) | set(field_names(html)) | set(extra_keys)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for value in GARBAGE:
        response = client.get(url, dict.fromkeys(keys, value), **headers)
        assert_answered(response, (url, value[:12]))
        response = client.get(url, {key: [value, "1"] for key in keys}, **headers)
        assert_answered(response, (url, "doubled", value[:12]))
    for value in SHARP:
        for key in keys:  # one at a time too: a bad key must not hide another
            assert_answered(client.get(url, {key: value}, **headers), (url, key, value[:12]))


@pytest.fixture
def world(db):
    admin_user = AdminUserFactory(email="fuzz-admin@example.com")
    partner = PartnerFactory(user=UserFactory(email="fuzz@example.com"), store_name="Fuzz")
    series = SeriesFactory(name="Série")
    held = BookFactory(series=series)
    other = BookFactory()
    delivered = delivered_order(partner, (held, 5), (other, 2), admin=admin_user)
    report = submit_report(partner, (held, 1))
    pending = place_order(partner, (other, 1))
    second = PartnerFactory(user=UserFactory(email="fuzz2@example.com"))
    approved = order_approve(order=place_order(second, (held, 1)), by=admin_user)
    return {
        "admin": admin_user,
        "partner": partner,
        "series": series,
        "book": held,
        "delivered": delivered,
        "report": report,
        "pending": pending,
        "approved": approved,
        "notice": Notification.objects.filter(recipient=partner.user).first(),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- portal ------------------------------------------------------------------------------------

PORTAL_FORMS = [
    ("operations:order_add", None, {}),
    ("operations:order_add", None, {"from": "catalogue"}),
    ("operations:order_update", None, {}),
    ("operations:order_new", None, {}),
    ("operations:report_new", None, {}),
    ("operations:report_new", None, {"action": "save"}),
    ("operations:report_new", None, {"action": "submit"}),
    ("operations:report_new", None, {"action": "search", "goto": "2"}),
    ("operations:report_scan", None, {}),
    ("operations:report_import", None, {}),
    ("operations:report_import", None, {"action": "confirm"}),
    ("operations:order_cancel", "pending", {}),
    ("operations:notification_read", "notice", {}),
    ("operations:notifications_read_all", None, {}),
    ("accounts:account", None, {}),
    ("accounts:language", None, {}),
    ("set_language", None, {}),
    ("password_change", None, {}),
]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(("name", "key", "extra"), PORTAL_FORMS)
def test_portal_forms_never_fail(world, name, key, extra, htmx):
    client = client_for(world["partner"].user)
    url = reverse(name, args=[world[key].pk] if key else [])
    if name == "operations:order_update":
        client.get(reverse("operations:order_new"))  # the draft page, to read its fields
        fields_from = client.get(reverse("operations:order_new")).content.decode()
        for label, data in hostile_posts(field_names(fields_from)):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            assert_answered(client.post(url, data, **headers), (url, label))
        return
    fuzz_form(client, url, extra=extra, htmx=htmx)


@pytest.mark.parametrize(
    "name",
    ["login", "password_reset"],
)
def test_anonymous_forms_never_fail(world, name):
    fuzz_form(Client(), reverse(name))


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("operations:dashboard", ["v"]),
        ("operations:order_new", ["q", "page"]),
        ("operations:history", ["kind", "status", "date_from", "date_to", "page", "q"]),
        ("operations:stock", ["page", "q", "o"]),
        ("operations:stock_csv", []),
        ("operations:report_new", ["q", "page"]),
        ("operations:report_scan", []),
        ("operations:report_review", []),
        ("operations:catalogue", ["q", "series", "page", "held"]),
    ],
)
def test_portal_filters_never_fail(world, name, keys, htmx):
    fuzz_filters(client_for(world["partner"].user), reverse(name), extra_keys=keys, htmx=htmx)


@pytest.mark.parametrize("key", ["delivered", "pending", "report"])
def test_portal_object_pages_never_fail(world, key):
    client = client_for(world["partner"].user)
    operation = world[key]
    name = "operations:report_detail" if operation.is_report else "operations:order_detail"
    fuzz_filters(client, reverse(name, args=[operation.pk]), extra_keys=["v"], htmx=True)


# -- admin -----------------------------------------------------------------------------------


def admin_models():
    return sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)


@pytest.mark.parametrize(("app", "model"), admin_models())
def test_admin_changelist_filters_never_fail(world, app, model):
    url = reverse(f"admin:{app}_{model}_changelist")
    extra = ["q", "o", "p", "e", "all", "_to_field", "_popup", "created_at__year"]
    extra += ["created_at__month", "created_at__day"]
    fuzz_filters(client_for(world["admin"]), url, extra_keys=extra)


@pytest.mark.parametrize(("app", "model"), admin_models())
def test_admin_changelist_actions_never_fail(world, app, model):
    client = client_for(world["admin"])
    url = reverse(f"admin:{app}_{model}_changelist")
    page = client.get(url).content.decode()
    actions = set(re.findall(r'<option value="([a-z_]+)">', page)) | {"delete_selected", "nope"}
    for action in sorted(actions):
        for value in [*GARBAGE, str(world["pending"].pk)]:
            data = {"action": action, "_selected_action": [value, value], "index": value}
            assert_answered(client.post(url, data), (url, action, value[:12]))
            data = {"action": action, "_selected_action": [value], "apply": "1", "reason": value}
            assert_answered(client.post(url, data), (url, action, "apply", value[:12]))


ADMIN_FORMS = [
    ("admin:accounts_partner_add", None),
    ("admin:accounts_partner_change", "partner"),
    ("admin:accounts_partner_suspend", "partner"),
    ("admin:accounts_user_add", None),
    ("admin:accounts_user_change", "admin"),
    ("admin:catalog_book_add", None),
    ("admin:catalog_book_change", "book"),
    ("admin:catalog_series_add", None),
    ("admin:catalog_series_change", "series"),
    ("admin:catalog_book_import", None),
    ("admin:operations_operation_change", "delivered"),
    ("admin:operations_operation_reject", "approved"),
    ("admin:operations_operation_deliver", "approved"),
    ("admin:operations_operation_void", "report"),
    ("admin:operations_notification_change", "notice"),
]


@pytest.mark.parametrize(("name", "key"), ADMIN_FORMS)
def test_admin_forms_never_fail(world, name, key):
    client = client_for(world["admin"])
    url = reverse(name, args=[world[key].pk] if key else [])
    extra = {"apply": "1"} if name.endswith(("_reject", "_deliver", "_void", "_suspend")) else {}
    fuzz_form(client, url, extra=extra)


def test_the_catalogue_import_never_fails(world):
    client = client_for(world["admin"])
    url = reverse("admin:catalog_book_import")
    for value in GARBAGE:
        for content in (value.encode("utf-8", "surrogatepass"), b"\xff\xfe\x00", b"ISBN;x\n" * 3):
            upload = SimpleUploadedFile("books.csv", content, content_type="text/csv")
            assert_answered(client.post(url, {"file": upload}), (url, "upload", value[:12]))
        text = f"ISBN;title;authors;series;price\n{value};{value};{value};{value};{value}\n"
        upload = SimpleUploadedFile("books.csv", text.encode(), content_type="text/csv")
        assert_answered(client.post(url, {"file": upload}), (url, "rows", value[:12]))
        assert_answered(client.post(url, {"confirm": "1", "upload": value}), (url, "confirm"))


def test_the_till_import_never_fails(world):
    client = client_for(world["partner"].user)
    url = reverse("operations:report_import")
    isbn = world["book"].isbn
    for value in GARBAGE:
        for content in (value.encode("utf-8", "surrogatepass"), b"\xff\xfe\x00", b"PK\x03\x04"):
            for name in ("ventes.csv", "ventes.xlsx", value[:50] or "x"):
                upload = SimpleUploadedFile(name, content)
                assert_answered(client.post(url, {"file": upload}), (url, "upload", value[:12]))
        for text in (f"ISBN;Qté\n{value};{value}\n", f"EAN,copies\n{isbn},{value}\n"):
            upload = SimpleUploadedFile("ventes.csv", text.encode("utf-8", "surrogatepass"))
            assert_answered(client.post(url, {"file": upload}), (url, "rows", value[:12]))
            assert_answered(client.post(url, {"action": "confirm"}), (url, "confirm"))
        session = client.session
        session[f"report_import:{world['partner'].pk}"] = [[value, value], value]
        session[f"report_draft:{world['partner'].pk}"] = {"lines": [[value, 1]], "note": value}
        session.save()
        assert_answered(client.post(url, {"action": "confirm"}), (url, "session", value[:12]))
        for page in ("operations:report_new", "operations:report_review"):
            assert_answered(client.get(reverse(page)), (page, "draft", value[:12]))


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("admin:operations_operation_export", ["status__exact", "kind__exact", "q"]),
        ("admin:operations_stock", ["by", "q", "partner", "book", "series", "format"]),
        (
            "admin:operations_analytics",
            ["date_from", "date_to", "partner", "days", "table", "format"],
        ),
    ],
)
def test_admin_reports_and_exports_never_fail(world, name, keys):
    client = client_for(world["admin"])
    url = reverse(name)
    fuzz_filters(client, url, extra_keys=keys)
    for fmt in ("csv", "xlsx"):
        for value in GARBAGE:
            response = client.get(url, {**dict.fromkeys(keys, value), "format": fmt})
            assert_answered(response, (url, fmt, value[:12]))


def test_every_admin_page_link_answers(world):
    """Every link on the admin's home page and the pages it links to, once."""
    client = client_for(world["admin"])
    seen, queue = set(), [reverse("admin:index")]
    while queue and len(seen) < 120:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert_answered(response, url)
        for href in re.findall(r'href="(/admin/[^"#]*)"', text_of(response)):
            href = unescape(href)
            if "logout" not in href and "delete" not in urlsplit(href).path:
                queue.append(href)
