"""Settings of the Teams delegation portal.

Everything comes from the environment (see `.env.example`), read once here through
django-environ. With DEBUG off the portal refuses to start unless every secret is given; a
malformed value names the variable at start-up, not on the first request.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from portal.settings_env import CALL_DELEGATION_SCOPES, env
from portal.settings_env import setting as _setting

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = _setting("DEBUG", env.bool, False)
PORTAL_VERSION = env.str("PORTAL_VERSION", default="0.1.0")

_missing: list[str] = []


def _secret(name: str, dev_default: str = "") -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    _missing.append(name)
    return ""


# --- Core ---------------------------------------------------------------------------------
SECRET_KEY = _secret("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
_dev_hosts = ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
ALLOWED_HOSTS = _setting("ALLOWED_HOSTS", env.list, _dev_hosts)
if not DEBUG and not ALLOWED_HOSTS:
    _missing.append("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = _setting("CSRF_TRUSTED_ORIGINS", env.list, [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "portal",
    "delegation",
    "delegation.changes",
    "reviews",
    "calls",
    "api",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # An htmx request sent to sign in takes its whole page there (around the next one).
    "portal.middleware.HtmxSignInRedirectMiddleware",
    # Every view requires sign-in unless marked @login_not_required: a new view cannot forget.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Disabled or removed in Entra ID: the session ends at the next request, not in 8 hours.
    "portal.middleware.SignInCheckMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.UserTimezoneMiddleware",
    "portal.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    }
]

# --- Database: SQLite by default, PostgreSQL through DATABASE_URL (psycopg 3) ----------------
DATABASES = {
    "default": _setting("DATABASE_URL", env.db_url, f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
RUN_DIR = Path(env.str("PORTAL_RUN_DIR", default=str(BASE_DIR / ".run")))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database: a Celery worker process must see it too.
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / "test-db.sqlite3")}
    # WAL + a busy timeout: web, worker and beat share one file in development.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = _setting("DATABASE_CONN_MAX_AGE", env.int, 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Shared cache (the organisation dashboard's figures): per process by default; redis://... to
# share it between web processes.
CACHES = {
    "default": _setting(
        "CACHE_URL",
        lambda name, default: env.cache_url_config(env.str(name, default="") or default),
        "locmemcache://",
    )
}

# --- Locale -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves files straight from static/ (no collectstatic); production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _setting("SESSION_COOKIE_AGE", env.int, 8 * 3600)
# How often a signed-in person's refresh token is redeemed to re-read their roles (and to learn
# that Entra ID refuses them) without waiting for their next sign-in.
SIGNIN_RECHECK_SECONDS = _setting("SIGNIN_RECHECK_SECONDS", env.int, 600)
CSRF_COOKIE_HTTPONLY = True  # no script reads it: htmx takes the token from the page
# A stale tab's form meets a page that says what happened, not Django's bare 403.
CSRF_FAILURE_VIEW = "portal.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# `make run` serves as production does but on http://127.0.0.1 with no TLS proxy in front, where
# Secure cookies, the https redirect and HSTS would lock the browser out: this turns those three
# off, and only for a portal that answers on loopback names alone.
DEMO_PLAIN_HTTP = _setting("DEMO_PLAIN_HTTP", env.bool, False)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
if DEMO_PLAIN_HTTP and not (ALLOWED_HOSTS and set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS):
    raise ImproperlyConfigured(
        "DEMO_PLAIN_HTTP serves plain http: it needs ALLOWED_HOSTS of loopback names only "
        f"({', '.join(sorted(_LOOPBACK_HOSTS))}), not {', '.join(ALLOWED_HOSTS) or 'none'}."
    )
if not DEBUG:
    _https = not DEMO_PLAIN_HTTP
    SESSION_COOKIE_SECURE = _https
    CSRF_COOKIE_SECURE = _https
    SECURE_SSL_REDIRECT = _https and _setting("SECURE_SSL_REDIRECT", env.bool, True)
    SECURE_HSTS_SECONDS = _setting("SECURE_HSTS_SECONDS", env.int, 31536000) if _https else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _setting("SECURE_HSTS_PRELOAD", env.bool, True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]

# Addresses of the TLS-terminating proxy (the variable gunicorn reads too): from these only,
# X-Forwarded-For names the client, for the audit log and the sign-in limits. "*" trusts all.
FORWARDED_ALLOW_IPS = _setting("FORWARDED_ALLOW_IPS", env.list, ["127.0.0.1"])
# Sign-in limits per client address and window: failures (and starts, each a session row) past
# the limit answer 429; the audit log keeps one row per client, reason and window, with a count.
SIGNIN_RATE_WINDOW_SECONDS = _setting("SIGNIN_RATE_WINDOW_SECONDS", env.int, 300)
SIGNIN_FAILURE_LIMIT = _setting("SIGNIN_FAILURE_LIMIT", env.int, 20)
SIGNIN_START_LIMIT = _setting("SIGNIN_START_LIMIT", env.int, 120)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"] + env.list("CSP_FORM_ACTION_EXTRA", default=[]),
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Token encryption at rest (Fernet; several keys = rotation, the first one encrypts) ------
_dev_fernet = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
TOKEN_ENCRYPTION_KEYS = _setting("TOKEN_ENCRYPTION_KEYS", env.list, [])
if not TOKEN_ENCRYPTION_KEYS:
    if DEBUG:
        TOKEN_ENCRYPTION_KEYS = [_dev_fernet]
    else:
        _missing.append("TOKEN_ENCRYPTION_KEYS")

# --- Microsoft Entra ID and Graph ----------------------------------------------------------
MS_TENANT_ID = _secret("MS_TENANT_ID")
MS_CLIENT_ID = _secret("MS_CLIENT_ID")
MS_CLIENT_SECRET = _secret("MS_CLIENT_SECRET")
MS_AUTHORITY = env.str("MS_AUTHORITY", default="") or (
    f"https://login.microsoftonline.com/{MS_TENANT_ID}" if MS_TENANT_ID else ""
)
# Entra ID knows its authorities; a private one (graphsim) must skip instance discovery.
MS_INSTANCE_DISCOVERY = _setting("MS_INSTANCE_DISCOVERY", env.bool, True)
# Group object ids that grant a portal role, e.g. "1f2e...=helpdesk,9a8b...=manager".
MS_GROUP_ROLES = _setting("MS_GROUP_ROLES", env.dict, {})
# Scopes asked at sign-in (MSAL adds openid, profile, offline_access itself). CallDelegation.Read
# lets the calls pages re-check a delegation live with the person's own token.
# ReadWrite: a person's own token applies the changes they make to their own line.
MS_SIGNIN_SCOPES = _setting("MS_SIGNIN_SCOPES", env.list, ["User.Read", *CALL_DELEGATION_SCOPES])
MS_REDIRECT_PATH = "/auth/callback"
GRAPH_BASE_URL = env.str("GRAPH_BASE_URL", default="https://graph.microsoft.com").rstrip("/")
GRAPH_SCOPE_PREFIX = env.str("GRAPH_SCOPE_PREFIX", default="https://graph.microsoft.com/")
# A private CA bundle for Microsoft endpoints (graphsim offline); empty = the system store.
GRAPH_CA_BUNDLE = env.str("GRAPH_CA_BUNDLE", default="")
GRAPH_TIMEOUT_SECONDS = _setting("GRAPH_TIMEOUT_SECONDS", env.float, 30.0)
GRAPH_MAX_RETRIES = _setting("GRAPH_MAX_RETRIES", env.int, 6)
GRAPH_MAX_RETRY_AFTER_SECONDS = _setting("GRAPH_MAX_RETRY_AFTER_SECONDS", env.float, 120.0)
# Azure Communication Services (the browser phone's token exchange); empty = the phone is off.
ACS_CONNECTION_STRING = env.str("ACS_CONNECTION_STRING", default="")

# --- What each app reads (sync, changes, calls, reviews, alerts, API): one module each side
from portal.settings_apps import *  # noqa: E402,F403
from portal.settings_apps import APP_BEAT_SCHEDULE  # noqa: E402

# --- Celery --------------------------------------------------------------------------------
# Default broker: kombu's filesystem transport. It needs no server, survives restarts (messages
# are files), and works across the web, worker and beat processes of `make run`; SQLite-backed
# transports would contend with the portal's own SQLite writes. Production: redis://.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = RUN_DIR / "broker"
    for _sub in ("queue", "processed", "control", "results"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),
    }
    if not CELERY_RESULT_BACKEND:
        CELERY_RESULT_BACKEND = f"file://{_queue_dir / 'results'}"
elif not CELERY_RESULT_BACKEND:
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_TIME_LIMIT = _setting("CELERY_TASK_TIME_LIMIT", env.int, 3 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = _setting("CELERY_TASK_SOFT_TIME_LIMIT", env.int, 3 * 3600 - 60)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False  # never eager outside unit tests
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "portal-worker-heartbeat": {"task": "portal.tasks.worker_heartbeat", "schedule": 60.0},
    "portal-clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": 3600.0,
    },
    **APP_BEAT_SCHEDULE,
}

# --- Logging: never tokens, codes or secrets ----------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # msal logs request bodies at DEBUG; keep it quiet whatever LOG_LEVEL says.
        "msal": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

if _missing:
    raise ImproperlyConfigured(
        "DEBUG is off and these settings are missing: "
        + ", ".join(sorted(set(_missing)))
        + ". Set them in the environment (see .env.example)."
    )
