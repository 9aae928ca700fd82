"""Two app servers on one database: orders, deliveries and reports raced over HTTP.

Two gunicorn instances (two workers and four threads each) serve the same database, the one
the suite runs on: a file of its own with SQLite, a database of its own beside the test
database with PostgreSQL. Several sessions of one partner and two admins act at the same
moment across both servers. Whatever the interleaving: no server error, at most one open
order, stock never negative, each delivery and report counted once, and `ledger_check`
(rule 2 included) passes on what is left.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings

from toplivres.serving import gunicorn_serving

ROOT = Path(settings.BASE_DIR)
PASSWORD = "race-condition-horse-battery"
SESSIONS_PER_SERVER = 4

SETUP = f"""
from decimal import Decimal
from accounts.models import User
from accounts.services import partner_create
from catalog.tests.factories import BookFactory
User.objects.create_superuser("admin1@race.test", {PASSWORD!r}, full_name="Admin One")
User.objects.create_superuser("admin2@race.test", {PASSWORD!r}, full_name="Admin Two")
partner_create(email="shop@race.test", store_name="Race shop", password={PASSWORD!r},
               commission_rate=Decimal("30"))
print(BookFactory().pk)
"""

FACTS = """
import json
from django.db.models import Min
from operations.models import Operation, StockBalance
ops = Operation.objects.filter(partner__store_name="Race shop")
print(json.dumps({
    "open_orders": ops.filter(kind="order", status__in=["pending", "approved"]).count(),
    "delivered": ops.filter(kind="order", status="delivered").count(),
    "reports": ops.filter(kind="report", status="recorded").count(),
    "orders": ops.filter(kind="order").count(),
    "lowest_stock": StockBalance.objects.aggregate(m=Min("quantity"))["m"],
    "held": sum(StockBalance.objects.values_list("quantity", flat=True)),
}))
"""


@contextmanager
def _database(tmp_path):
    """A fresh database on the suite's engine; its URL."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{tmp_path / 'two-servers.sqlite3'}"
        return
    import psycopg

    name = f"{db['NAME']}_two_servers"
    admin_conninfo = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin_conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    try:
        yield f"postgres://{auth}@{admin_conninfo['host']}:{admin_conninfo['port']}/{name}"
    finally:
        with psycopg.connect(**admin_conninfo) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        TOPLIVRES_TESTING="true",  # throwaway secret, fast hasher, plain static files, HTTP
        ALLOWED_HOSTS="127.0.0.1",
        TASKS_BACKEND="immediate",
        EMAIL_URL="consolemail://",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_ACCESSLOG="-",
        GUNICORN_MAX_REQUESTS="0",
        AXES_FAILURE_LIMIT="3",
        CACHE_URL=settings.SHARED_CACHE_URL,  # the production default (the suite's is local)
    )
    return env


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One session on one server: cookies, CSRF, every status seen."""

    def __init__(self, base: str, statuses: list):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        self.statuses = statuses

    def _open(self, request) -> tuple[int, str]:
        """(status, body); for a redirect, the body is where it points."""
        try:
            with self.opener.open(request, timeout=60) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
            if 300 <= status < 400:
                body = urllib.parse.urlsplit(error.headers.get("Location", "")).path
        self.statuses.append((status, request.get_method(), request.full_url))
        return status, body

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict | list) -> tuple[int, str]:
        token = next(c.value for c in self.cookies if c.name == settings.CSRF_COOKIE_NAME)
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data, doseq=True).encode(),
            headers={"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
        )
        return self._open(request)

    def login(self, email: str) -> None:
        self.get("/accounts/login/")
        status, _ = self.post("/accounts/login/", {"username": email, "password": PASSWORD})
        assert status == 302, f"{email} could not log in ({status})"


def _at_once(actions) -> list:
    """Run every action in its own thread, released together; their results."""
    barrier = threading.Barrier(len(actions))
    errors, results = [], []

    def run(action):
        try:
            barrier.wait(timeout=60)
            results.append(action())
        except Exception as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def _facts(env: dict) -> dict:
    return json.loads(_manage(env, "shell", "-v0", "-c", FACTS).strip().splitlines()[-1])


def _place_order(browser: Browser, book_id: int) -> None:
    browser.get("/orders/new/")
    browser.post("/orders/new/add/", {"book": book_id, "copies": 2})


def _report_token(browser: Browser) -> str:
    status, page = browser.get("/reports/new/")
    assert status == 200, status
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_two_servers_race_orders_deliveries_and_reports(tmp_path):
    with ExitStack() as stack:
        database_url = stack.enter_context(_database(tmp_path))
        env = _environment(database_url)
        _manage(env, "migrate", "--noinput", "-v0")
        book_id = int(_manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        servers = [
            stack.enter_context(gunicorn_serving(env, tmp_path / f"gunicorn-{n}.log"))
            for n in (1, 2)
        ]
        statuses: list = []
        shops = [Browser(base, statuses) for base in servers for _ in range(SESSIONS_PER_SERVER)]
        for shop in shops:
            shop.login("shop@race.test")
        admins = [Browser(base, statuses) for base in servers for _ in range(2)]
        for n, admin in enumerate(admins):
            admin.login(f"admin{n % 2 + 1}@race.test")

        # Eight tabs on two servers place an order at the same moment: one is placed.
        for shop in shops:
            _place_order(shop, book_id)
        placed = _at_once(
            [
                lambda shop=shop: shop.post("/orders/new/", {f"copies_{book_id}": 2, "note": ""})
                for shop in shops
            ]
        )
        # One redirect to the new order; the others answer with the form and the reason, or
        # (once the order is in) send the tab back to the order page, which says why.
        to_orders = [body for status, body in placed if status == 302 and body != "/orders/new/"]
        assert len(to_orders) == 1 and re.fullmatch(r"/orders/\d+/", to_orders[0]), placed
        assert all(status in (200, 302) for status, _ in placed), placed
        facts = _facts(env)
        assert facts["open_orders"] == 1, facts
        assert facts["orders"] == 1, facts
        order_id = int(
            _manage(
                env,
                "shell",
                "-c",
                "from operations.models import Operation;"
                "print(Operation.objects.get(kind='order').pk)",
            ).split()[-1]
        )

        # Four admins on two servers approve, then deliver, the same order at once.
        changelist = "/admin/operations/operation/"
        for action in ("approve", "deliver"):
            for admin in admins:
                admin.get(changelist)
            _at_once(
                [
                    lambda admin=admin, action=action: admin.post(
                        changelist,
                        # "apply": the deliver action's confirmation page, confirmed
                        {"action": action, "index": 0, "_selected_action": order_id, "apply": 1},
                    )
                    for admin in admins
                ]
            )
        facts = _facts(env)
        assert (facts["delivered"], facts["open_orders"], facts["held"]) == (1, 0, 2), facts

        # Each tab reports the two copies sold while the others try to order again: one
        # report is recorded, stock never goes below zero, and an order placed is placed only
        # after that report (rule 2, checked by ledger_check below).
        tokens = [_report_token(shop) for shop in shops]
        for shop in shops[::2]:
            _place_order(shop, book_id)
        actions = []
        for n, (shop, token) in enumerate(zip(shops, tokens, strict=True)):
            actions.append(
                lambda shop=shop, token=token: shop.post(
                    "/reports/new/",
                    {"action": "submit", "token": token, f"sold_{book_id}": 2, "note": ""},
                )
            )
            if n % 2 == 0:
                actions.append(
                    lambda shop=shop: shop.post(
                        "/orders/new/", {f"copies_{book_id}": 2, "note": ""}
                    )
                )
        _at_once(actions)
        facts = _facts(env)
        assert facts["reports"] == 1, facts
        assert facts["lowest_stock"] == 0 and facts["held"] == 0, facts
        assert facts["open_orders"] <= 1, facts

        # What one server counts, the other sees: login failures lock the account on both,
        # and the password-reset throttle counts requests made to either.
        strangers = [Browser(base, statuses) for base in servers]
        for stranger in strangers:
            stranger.get("/accounts/login/")
        failed = [
            stranger.post("/accounts/login/", {"username": "admin2@race.test", "password": "no"})
            for stranger in (strangers[0], strangers[1], strangers[0])
        ]
        assert [status for status, _ in failed[:2]] == [200, 200]
        status, _ = strangers[1].post(
            "/accounts/login/", {"username": "admin2@race.test", "password": PASSWORD}
        )
        assert status == 429, "the lockout of one server was not seen by the other"
        for stranger in strangers:
            stranger.get("/accounts/password_reset/")
        for stranger in strangers * 2:
            stranger.post("/accounts/password_reset/", {"email": "nobody@race.test"})
        counted = _manage(
            env,
            "shell",
            "-v0",
            "-c",
            "from django.core.cache import cache; print(cache.get('reset:email:nobody@race.test'))",
        )
        assert counted.split() == ["4"], counted

        server_errors = [entry for entry in statuses if entry[0] >= 500]
        assert not server_errors, server_errors
        _manage(env, "ledger_check")
