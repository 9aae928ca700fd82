import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run_django_check(**env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
    }
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "toplivres.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_start_up_refuses_a_missing_secret_key():
    result = run_django_check(DEBUG="false", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_start_up_refuses_a_weak_secret_key():
    result = run_django_check(DEBUG="false", ALLOWED_HOSTS="example.com", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_production_start_up_refuses_empty_allowed_hosts():
    result = run_django_check(DEBUG="false", SECRET_KEY="x" * 10 + "abcdefghij" * 5)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


def test_production_start_up_succeeds_with_strong_values():
    result = run_django_check(
        DEBUG="false", SECRET_KEY="k7Qp-2vX9" * 7, ALLOWED_HOSTS="toplivres.example.com"
    )
    assert result.returncode == 0, result.stderr


def test_deploy_check_passes_with_production_values():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="k7Qp-2vX9" * 7,
        ALLOWED_HOSTS="toplivres.example.com",
        SECURE_SSL_REDIRECT="true",
        SESSION_COOKIE_SECURE="true",
        CSRF_COOKIE_SECURE="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlite_opens_immediate_transactions(settings):
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_start_up_refuses_a_malformed_seller_identity():
    result = run_django_check(DEBUG="true", SELLER_SIREN="12345")
    assert result.returncode != 0
    assert "SELLER_SIREN" in result.stderr
    result = run_django_check(DEBUG="true", SELLER_SIRET="99999999900017")
    assert "SELLER_SIRET" in result.stderr
    result = run_django_check(DEBUG="true", SELLER_VAT_NUMBER="", SELLER_VAT_EXEMPT_MENTION="")
    assert "SELLER_VAT_EXEMPT_MENTION" in result.stderr
    result = run_django_check(DEBUG="true", BOOK_VAT_RATE="five")
    assert result.returncode != 0
