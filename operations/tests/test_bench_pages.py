"""`bench_pages` in its child role, on a tiny ledger: every page answers and is measured."""

import json

import pytest
from django.core.management import call_command

from operations.management.commands import bench_pages


@pytest.mark.django_db
def test_bench_pages_times_every_page_on_a_data_set_it_builds(tmp_path, monkeypatch):
    monkeypatch.setitem(bench_pages.SCALES, "small", (3, 40, 2, 5))
    out = tmp_path / "small.json"
    call_command("bench_pages", scale="small", out=str(out), requests=1)
    figures = json.loads(out.read_text())
    assert figures["items"] > 0 and figures["titles_held"] > 0
    labels = set(figures["pages"])
    assert {"dashboard", "stock", "sales report", "stock per book", "/healthz"} <= labels
    for label, page in figures["pages"].items():
        assert page["ms"] > 0 and page["queries"] >= 1, figures["pages"]
