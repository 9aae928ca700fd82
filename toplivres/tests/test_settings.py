import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


# Variables that a developer's shell or the suite itself may set: each test starts without.
CLEARED = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "TOPLIVRES_TESTING"}
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "k7Qp-2vX9" * 7, "ALLOWED_HOSTS": "example.com"}


def run_django_check(code="", **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "toplivres.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
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


def test_production_keeps_the_cache_in_the_database_shared_by_every_server():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = run_django_check(code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.db.DatabaseCache"]
    result = run_django_check(code, CACHE_URL="redis://cache.internal:6379/1", **PRODUCTION)
    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache"]


def test_deploy_check_passes_with_production_values():
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
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
        EMAIL_URL="smtp+tls://user:pw@smtp.example.com:587",
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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECURE_SSL_REDIRECT", "ture"),
        ("SESSION_COOKIE_SECURE", "yes please"),
        ("DEBUG", "maybe"),
        ("DEFAULT_COMMISSION_RATE", "35%"),
        ("DEFAULT_COMMISSION_RATE", "150"),
        ("DEFAULT_COMMISSION_RATE", "NaN"),
        ("AXES_FAILURE_LIMIT", "ten"),
        ("AXES_COOLOFF_HOURS", "quarter"),
        ("SECURE_HSTS_SECONDS", "-5"),
        ("TRUSTED_PROXY_COUNT", "one"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(name, value):
    result = run_django_check(**{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}={value!r}" in result.stderr
    assert "Traceback" in result.stderr  # the exception's own line carries the name


SHOW_HTTPS = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
    "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.LANGUAGE_COOKIE_SECURE)"
)


def test_production_defaults_are_https_only():
    result = run_django_check(SHOW_HTTPS, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000", "True"]


def test_plain_http_is_an_explicit_opt_out():
    result = run_django_check(SHOW_HTTPS, ALLOW_PLAIN_HTTP="true", **PRODUCTION)
    assert result.stdout.split() == ["False", "False", "False", "0", "False"]


def test_development_runs_on_plain_http():
    result = run_django_check(SHOW_HTTPS, DEBUG="true")
    assert result.stdout.split() == ["False", "False", "False", "0", "False"]


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
