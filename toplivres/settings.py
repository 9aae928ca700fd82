"""Settings for toplivres, read from the environment (django-environ).

Every variable is documented in `.env.example`. Defaults serve a laptop: SQLite under
`var/`, console e-mail, DEBUG off unless set. With DEBUG off, a missing or weak SECRET_KEY
or an empty ALLOWED_HOSTS stops start-up, and HTTPS hardening is on unless ALLOW_PLAIN_HTTP
says otherwise. A malformed value (SECURE_SSL_REDIRECT=ture, a rate that is not a number)
stops start-up with the variable's name.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or not value.strip() else value.strip()


def _malformed(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r} is not {expected}.")


def env_bool(name: str, *, default: bool) -> bool:
    """true/false (also yes/no, on/off, 1/0); anything else stops start-up. django-environ
    reads an unknown word such as "ture" as false, which would silently turn a setting off."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _malformed(name, value, "true or false")


def env_int(name: str, *, default: int, minimum: int | None = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _malformed(name, value, "a whole number") from None
    if minimum is not None and number < minimum:
        raise _malformed(name, value, f"a whole number of at least {minimum}")
    return number


def env_decimal(name: str, *, default: str, low: str, high: str) -> Decimal:
    value = _raw(name) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _malformed(name, value, "a number such as 35 or 12.5") from None
    if not number.is_finite() or not Decimal(low) <= number <= Decimal(high):
        raise _malformed(name, value, f"a number from {low} to {high}")
    return number


# The test suite says it is running (pytest-env sets TOPLIVRES_TESTING in pyproject.toml):
# throwaway secrets, a fast password hasher, plain static files, HTTP.
TESTING = env_bool("TOPLIVRES_TESTING", default=False)

DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijkl"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and (DEBUG or TESTING):
    SECRET_KEY = _DEV_SECRET_KEY


def _secret_key_is_weak(key: str) -> bool:
    # Same yardstick as Django's security.W009 check.
    return (
        len(key) < 50
        or len(set(key)) < 5
        or key.startswith("django-insecure-")
        or key == _DEV_SECRET_KEY
    )


ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG and not TESTING:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off, set SECRET_KEY to a long random value "
            "(50+ characters), e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if _secret_key_is_weak(SECRET_KEY):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak for DEBUG off: use 50+ random characters, not the "
            "development default."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is empty. With DEBUG off, list the host names that serve this site, "
            "comma-separated (e.g. ALLOWED_HOSTS=toplivres.example.com)."
        )

# Public address of the site, used in links inside e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_tasks",
    "toplivres.apps.TasksDatabaseConfig",  # django_tasks_db, named in French too
    "axes",
    "csp",
    "accounts",
    "catalog",
    "operations",
    "toplivres",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "toplivres.middleware.NulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "toplivres.middleware.PrivatePagesMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "toplivres.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "toplivres.context_processors.csp_nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "toplivres.wsgi.application"
ASGI_APPLICATION = "toplivres.asgi.application"

# Database: SQLite file under var/ unless DATABASE_URL says otherwise.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'toplivres.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue (BEGIN IMMEDIATE) instead of racing: SQLite ignores select_for_update.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Threaded tests need a file database, not the in-memory default.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("SQLITE_TEST_NAME", default=str(VAR_DIR / "test.sqlite3"))
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", default=0))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the partner profile with the user.
    "accounts.auth.UserBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "operations:dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600, minimum=60)

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=10, minimum=1)
AXES_COOLOFF_TIME = float(
    env_decimal("AXES_COOLOFF_HOURS", default="0.25", low="0.01", high="8760")
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# One spelling per address (login is case-insensitive), truncated to axes' column.
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
# The client address as the deployment says: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
# reverse proxies the matching X-Forwarded-For entry (see accounts.auth.client_ip).
AXES_CLIENT_IP_CALLABLE = "accounts.auth.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
# Password-reset e-mails per address (and five times as many per client) in each period.
PASSWORD_RESET_LIMIT = env_int("PASSWORD_RESET_LIMIT", default=3, minimum=1)
PASSWORD_RESET_PERIOD = env_int("PASSWORD_RESET_PERIOD", default=3600, minimum=1)

# Internationalisation: English source, complete French translation.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Large exports: past EXPORT_TASK_THRESHOLD rows, a background task writes the file into
# EXPORTS_DIR (private: no URL serves it; admins download through the admin), kept
# EXPORT_RETENTION_DAYS days. Smaller exports stream at once.
EXPORT_TASK_THRESHOLD = env_int("EXPORT_TASK_THRESHOLD", default=50_000, minimum=1)
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", default=7, minimum=1)
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": env.str("EXPORTS_DIR", default=str(VAR_DIR / "exports"))},
}

# E-mail: console backend unless EMAIL_URL says otherwise (e.g. smtp+tls://user:pw@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="toplivres <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Whom a partner contacts about its account (shown to a suspended partner at login).
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="")

# Shared state lives in the database, so that app servers keep none of their own: sessions
# (Django's default), login lockouts (django-axes), the task queue, and this cache, which
# holds the password-reset throttle. CACHE_URL may name a shared cache instead
# (redis://host:6379/1); a per-process cache (locmemcache://) suits one server only, and
# is what the suite uses unless CACHE_URL says otherwise.
SHARED_CACHE_URL = "dbcache://toplivres_cache"
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://" if TESTING else SHARED_CACHE_URL)
}

# Background tasks (django-tasks): run at once by default; TASKS_BACKEND=database queues
# them in the database for `manage.py db_worker`.
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
_task_backend = env.str("TASKS_BACKEND", default="immediate")
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {_task_backend!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend]}}

# Security headers. With DEBUG off the defaults are the production ones (HTTPS only, a
# year of HSTS); ALLOW_PLAIN_HTTP=true opts out for a plain-HTTP test machine. Each variable
# below still overrides its own default.
ALLOW_PLAIN_HTTP = env_bool("ALLOW_PLAIN_HTTP", default=False)
_HTTPS = not (DEBUG or TESTING or ALLOW_PLAIN_HTTP)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# The language cookie follows the session cookie: HTTPS-only when it is, never sent cross-site.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=14 * 24 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
# Our page for a stale form (a way back to it), in the reader's language.
CSRF_FAILURE_VIEW = "toplivres.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # The Django admin sets a few style attributes inline.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Business defaults.
DEFAULT_COMMISSION_RATE = env_decimal("DEFAULT_COMMISSION_RATE", default="35", low="0", high="100")
MAX_ITEM_QUANTITY = 9999

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # PDF rendering logs every font subset at INFO.
        "fontTools": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "factur-x": {"level": "WARNING"},
    },
}

# Partner portal: how often (seconds) the dashboard asks for news of the open order.
PORTAL_POLL_SECONDS = env_int("PORTAL_POLL_SECONDS", default=30, minimum=5)
# The return page suggests first the titles with no sale for this many months.
RETURN_SUGGEST_MONTHS = env_int("RETURN_SUGGEST_MONTHS", default=6, minimum=1)
if RETURN_SUGGEST_MONTHS > 120:
    raise ImproperlyConfigured("RETURN_SUGGEST_MONTHS must be a number of months from 1 to 120.")
# `manage.py send_reminders`: a partner holding a delivery this many days with no report
# since is reminded to report, then again every this many days.
REPORT_REMINDER_DAYS = env_int("REPORT_REMINDER_DAYS", default=30, minimum=1)

# Invoices and credit notes: the seller's legal identity, frozen on each document at issue.
# The defaults render a plausible demo invoice; set the real ones in production.
SELLER_NAME = env.str("SELLER_NAME", default="Éditions Toplivres SAS")
SELLER_ADDRESS = env.str("SELLER_ADDRESS", default="12 rue des Imprimeurs")
SELLER_POSTAL_CODE = env.str("SELLER_POSTAL_CODE", default="69002")
SELLER_CITY = env.str("SELLER_CITY", default="Lyon")
SELLER_COUNTRY = env.str("SELLER_COUNTRY", default="FR")
SELLER_SIREN = env.str("SELLER_SIREN", default="123456789")
SELLER_SIRET = env.str("SELLER_SIRET", default="12345678900017")
SELLER_VAT_NUMBER = env.str("SELLER_VAT_NUMBER", default="FR32123456789")
# For a VAT-exempt micro-business: leave SELLER_VAT_NUMBER empty and give the mention, e.g.
# "TVA non applicable, art. 293 B du CGI". Its invoices then carry no VAT.
SELLER_VAT_EXEMPT_MENTION = env.str("SELLER_VAT_EXEMPT_MENTION", default="")
SELLER_EMAIL = env.str("SELLER_EMAIL", default="compta@example.com")
SELLER_IBAN = env.str("SELLER_IBAN", default="")
SELLER_BIC = env.str("SELLER_BIC", default="")
SELLER_BANK_NAME = env.str("SELLER_BANK_NAME", default="")
BOOK_VAT_RATE = env_decimal("BOOK_VAT_RATE", default="5.5", low="0", high="99.99")
PAYMENT_TERMS_DAYS = env_int("PAYMENT_TERMS_DAYS", default=30, minimum=0)
# Late payment: the penalty rate (yearly, percent) and the fixed recovery indemnity (EUR 40 by
# law, art. L441-10 and D441-5 of the Code de commerce).
LATE_PENALTY_RATE = env_decimal("LATE_PENALTY_RATE", default="12.00", low="0", high="100")
RECOVERY_INDEMNITY = env_decimal("RECOVERY_INDEMNITY", default="40.00", low="0", high="1000")
if len(SELLER_SIREN) != 9 or not SELLER_SIREN.isdigit():
    raise ImproperlyConfigured("SELLER_SIREN must be the 9 digits of the SIREN number.")
if SELLER_SIRET and (len(SELLER_SIRET) != 14 or not SELLER_SIRET.startswith(SELLER_SIREN)):
    raise ImproperlyConfigured("SELLER_SIRET must be 14 digits starting with SELLER_SIREN.")
if not SELLER_VAT_NUMBER and not SELLER_VAT_EXEMPT_MENTION:
    raise ImproperlyConfigured(
        "Set SELLER_VAT_NUMBER, or SELLER_VAT_EXEMPT_MENTION for a VAT-exempt micro-business."
    )
