"""`make bench`: every portal and admin page timed on a small and a large ledger.

Run without --scale, the command builds (or reuses) two data sets beside the database that
DATABASE_URL names (SQLite: var/bench/small.sqlite3 and large.sqlite3; PostgreSQL: the
databases <name>_bench_small and <name>_bench_large), times each page in a child process per
scale, and prints one table: median ms, queries, and the large/small ratio.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.models import Partner, User
from operations.models import Item, StockBalance
from toplivres.serving import gunicorn_serving, requests_per_second

GUNICORN_WORKERS, GUNICORN_THREADS, LOAD_CONNECTIONS = 2, 4, 16

SCALES = {
    # partners, books, monthly cycles, lines per delivery
    "small": (50, 500, 10, 25),
    "large": (500, 5000, 120, 25),
}


# The operations list's search and book filter name terms that fill its first page (50
# rows) at both scales, so that the ratio weighs the history behind the page, not how many
# rows it shows: "Bench store 4" names 11 stores of the small set and 111 of the large one,
# "Bench title 42" 11 books and 111.
ADMIN_SEARCH, BOOK_FILTER = "Bench+store+4", "Bench+title+42"


def _pages(partner) -> list[tuple[str, str, str]]:
    """(who, label, url) for each page measured."""
    stock = reverse("admin:operations_stock")
    return [
        ("portal", "dashboard", reverse("operations:dashboard")),
        ("portal", "catalogue", reverse("operations:catalogue")),
        ("portal", "new order", reverse("operations:order_new")),
        ("portal", "sales report", reverse("operations:report_new")),
        ("portal", "history", reverse("operations:history")),
        ("portal", "stock", reverse("operations:stock")),
        ("admin", "admin index (order desk)", reverse("admin:index")),
        ("admin", "operations list", reverse("admin:operations_operation_changelist")),
        (
            "admin",
            "operations list, search",
            reverse("admin:operations_operation_changelist") + f"?q={ADMIN_SEARCH}",
        ),
        (
            "admin",
            "operations list, book filter",
            reverse("admin:operations_operation_changelist") + f"?book={BOOK_FILTER}",
        ),
        ("admin", "stock per book", stock),
        ("admin", "stock per partner", stock + "?by=partner"),
        ("admin", "sales analytics", reverse("admin:operations_analytics")),
        ("admin", "partners", reverse("admin:accounts_partner_changelist")),
        ("admin", "partner page", reverse("admin:accounts_partner_change", args=[partner.pk])),
        ("anonymous", "/healthz", "/healthz"),
    ]


def _best_of(kept: dict | None, figures: dict) -> dict:
    """The figures of a new round, each page keeping the lower of its two medians (the query
    counts are the new round's: they do not change)."""
    if kept is None:
        return figures
    for label, page in figures["pages"].items():
        page["ms"] = min(page["ms"], kept["pages"][label]["ms"])
    return figures


class _QueryCounter:
    """Counts the statements a request runs (whatever DEBUG says)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = (
        "Time every portal and admin page on a small and a large ledger (built once, then "
        "reused) and print median ms, query count and the large/small ratio. Data sets live "
        "beside the database DATABASE_URL names; the database itself is not touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), help="measure one scale (child)")
        parser.add_argument("--out", help="with --scale: write the figures as JSON here")
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument(
            "--rounds",
            type=int,
            default=3,
            help="rounds of both scales, one after the other; each page keeps its best median",
        )
        parser.add_argument(
            "--gunicorn-seconds",
            type=float,
            default=5,
            help="seconds of load on the dashboard and on /healthz under gunicorn (0: none)",
        )

    def handle(
        self, *args, scale=None, out=None, requests=20, rounds=3, gunicorn_seconds=5, **options
    ):
        if scale:
            figures = json.dumps(self._measure_here(scale, requests, gunicorn_seconds))
            if out:
                Path(out).write_text(figures)
            else:
                self.stdout.write(figures)
            return
        # The scales take turns, round after round, and each page keeps the best of its
        # medians: on a shared machine a neighbour's load only ever adds time, and it may
        # fall on one scale's turn and not the other's.
        results = {}
        for turn in range(max(rounds, 1)):
            last = turn == max(rounds, 1) - 1
            for name in ("small", "large"):
                figures = self._measure_in_child(name, requests, gunicorn_seconds if last else 0)
                results[name] = _best_of(results.get(name), figures)
        self._print(results, requests, max(rounds, 1))

    # -- parent: one child process per data set ----------------------------------------------

    def _database_url(self, scale: str) -> str:
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            folder = settings.VAR_DIR / "bench"
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder / f'{scale}.sqlite3'}"
        url = urlsplit(os.environ.get("DATABASE_URL", ""))
        name = f"{db['NAME']}_bench_{scale}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(url._replace(path=f"/{name}"))

    def _measure_in_child(self, scale: str, requests: int, gunicorn_seconds: float) -> dict:
        out = settings.VAR_DIR / "bench" / f"{scale}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": self._database_url(scale),
            # Production-like: no debug toolbar of any kind, templates cached.
            "DEBUG": "false",
            "ALLOW_PLAIN_HTTP": "true",
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-" + "k" * 60),
            "TASKS_BACKEND": "dummy",
            "LOG_LEVEL": "WARNING",
        }
        self.stdout.write(f"{scale}: building or reusing the data set, then timing pages…")
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "bench_pages", "--scale", scale, "--out", str(out)]
            + ["--requests", str(requests), "--gunicorn-seconds", str(gunicorn_seconds)],
            check=True,
            env=env,
            cwd=settings.BASE_DIR,
        )
        self.stdout.write(f"{scale}: done in {time.perf_counter() - started:.0f} s")
        return json.loads(out.read_text())

    def _print(self, results: dict, requests: int, rounds: int) -> None:
        small, large = results["small"], results["large"]
        self.stdout.write("")
        self.stdout.write(
            f"{connection.vendor}, median of {requests} requests (the best of {rounds} "
            f"rounds); small: {small['items']:,} items, large: {large['items']:,} items"
        )
        self.stdout.write("| page | small ms | large ms | ratio | queries small / large |")
        self.stdout.write("|---|---:|---:|---:|---:|")
        for label, big in large["pages"].items():
            little = small["pages"][label]
            ratio = big["ms"] / little["ms"] if little["ms"] else float("nan")
            self.stdout.write(
                f"| {label} | {little['ms']:.1f} | {big['ms']:.1f} | {ratio:.2f} | "
                f"{little['queries']} / {big['queries']} |"
            )
        for name in ("small", "large"):
            served = results[name].get("gunicorn")
            if served:
                self.stdout.write(
                    f"{name}: under gunicorn ({GUNICORN_WORKERS} workers × {GUNICORN_THREADS} "
                    f"threads, {LOAD_CONNECTIONS} connections), the dashboard serves "
                    f"{served['dashboard']:.0f} requests/s, /healthz {served['healthz']:.0f}: "
                    f"{served['dashboard'] / served['healthz']:.1%} of /healthz"
                )

    # -- child: this process's database is the data set --------------------------------------

    def _measure_here(self, scale: str, requests: int, gunicorn_seconds: float = 0) -> dict:
        from operations.management.commands.benchmark import build_ledger

        call_command("migrate", verbosity=0, interactive=False)
        if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
            # With DEBUG off, pages name their static files from the manifest.
            call_command("collectstatic", interactive=False, verbosity=0)
        if not Partner.objects.exists():
            build_ledger(*SCALES[scale])
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # As autovacuum leaves a live database: the visibility map lets index-only
                # scans skip the table (the builder's bulk writes leave it empty). VACUUM
                # cannot run in a transaction: a data set built inside a test goes without.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            raise CommandError("The data set has no admin: delete it and run again.")
        # The partner holding the most titles: the heaviest portal pages.
        top = (
            StockBalance.objects.held()
            .values("partner_id")
            .annotate(titles=Count("book_id"))
            .order_by("-titles", "partner_id")
            .first()
        )
        partner = Partner.objects.select_related("user").get(pk=top["partner_id"])
        clients = {"portal": Client(), "admin": Client(), "anonymous": Client()}
        clients["portal"].force_login(partner.user)
        clients["admin"].force_login(admin)
        figures = {}
        for who, label, url in _pages(partner):
            client = clients[who]
            response = client.get(url)  # warm up: templates, connection, caches
            if response.status_code != 200:
                raise CommandError(f"{label} ({url}) answered {response.status_code}")
            counter = _QueryCounter()
            with connection.execute_wrapper(counter):
                client.get(url)
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            figures[label] = {
                "ms": statistics.median(timings),
                "queries": counter.count,
            }
        served = None
        if gunicorn_seconds:
            cookie = clients["portal"].cookies[settings.SESSION_COOKIE_NAME]
            served = self._under_gunicorn(f"{cookie.key}={cookie.value}", gunicorn_seconds)
        return {
            "pages": figures,
            "items": Item.objects.count(),
            "titles_held": top["titles"],
            "gunicorn": served,
        }

    def _under_gunicorn(self, cookie: str, seconds: float) -> dict:
        """Requests per second of the partner's dashboard and of /healthz, one after the
        other, on the same gunicorn (the repository's configuration, access log off)."""
        env = {
            **os.environ,
            "WEB_CONCURRENCY": str(GUNICORN_WORKERS),
            "GUNICORN_THREADS": str(GUNICORN_THREADS),
            "GUNICORN_ACCESSLOG": os.devnull,
            "GUNICORN_MAX_REQUESTS": "0",
        }
        log = settings.VAR_DIR / "bench" / "gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with gunicorn_serving(env, log) as base:
            rates = {}
            for label, path, session in (
                ("healthz", "/healthz", ""),
                ("dashboard", reverse("operations:dashboard"), cookie),
            ):
                requests_per_second(base, path, cookie=session, seconds=1)  # warm up
                rates[label] = requests_per_second(
                    base, path, cookie=session, seconds=seconds, connections=LOAD_CONNECTIONS
                )
        return rates
