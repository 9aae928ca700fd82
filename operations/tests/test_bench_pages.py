"""`bench_pages` in its child role, on a tiny ledger: every page answers and is measured."""

import json
import os

import pytest
from django.core.management import call_command

from operations.management.commands import bench_pages
from toplivres.serving import gunicorn_serving, requests_per_second


@pytest.mark.django_db
def test_bench_pages_times_every_page_on_a_data_set_it_builds(tmp_path, monkeypatch):
    monkeypatch.setitem(bench_pages.SCALES, "small", (3, 40, 2, 5))
    out = tmp_path / "small.json"
    call_command("bench_pages", scale="small", out=str(out), requests=1, gunicorn_seconds=0)
    figures = json.loads(out.read_text())
    assert figures["items"] > 0 and figures["titles_held"] > 0
    labels = set(figures["pages"])
    assert {"dashboard", "stock", "sales report", "stock per book", "/healthz"} <= labels
    for label, page in figures["pages"].items():
        assert page["ms"] > 0 and page["queries"] >= 1, figures["pages"]


def test_requests_per_second_under_gunicorn_counts_answers_and_refuses_errors(tmp_path):
    """The load generator `make bench` uses, against a real gunicorn (/healthz needs only a
    database it can reach)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESSLOG": os.devnull,
    }
    with gunicorn_serving(env, tmp_path / "gunicorn.log") as base:
        assert requests_per_second(base, "/healthz", seconds=0.5, connections=2) > 0
        with pytest.raises(RuntimeError, match="not 200"):
            requests_per_second(base, "/no-such-page", seconds=0.2, connections=2)


def test_each_page_keeps_the_best_median_of_the_rounds():
    first = {"pages": {"a": {"ms": 10.0, "queries": 3}, "b": {"ms": 4.0, "queries": 2}}}
    second = {"pages": {"a": {"ms": 12.0, "queries": 3}, "b": {"ms": 3.0, "queries": 2}}}
    best = bench_pages._best_of(bench_pages._best_of(None, first), second)
    assert best["pages"] == {"a": {"ms": 10.0, "queries": 3}, "b": {"ms": 3.0, "queries": 2}}
