import pytest
from django.db import DatabaseError
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_healthz_answers_ok_without_a_session_or_a_write(client):
    from django.db import connection

    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies
    assert [q["sql"] for q in ctx.captured_queries] == ["SELECT 1"]


@pytest.mark.django_db
def test_healthz_says_when_the_database_is_down(client, monkeypatch):
    from toplivres import views

    class Broken:
        def cursor(self):
            raise DatabaseError("down")

    monkeypatch.setattr(views, "connection", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503


def test_the_gunicorn_settings_load_and_give_room_to_long_responses():
    import runpy
    from pathlib import Path

    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert config["timeout"] >= 120
    assert config["worker_class"] == "gthread"
