"""Settings of the Teams delegation portal.

Everything comes from the environment (see `.env.example`), read once here through
django-environ. With DEBUG off the portal refuses to start unless every secret is given; a
malformed value names the variable at start-up, not on the first request.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if env.str("PORTAL_ENV_FILE", default=""):
    environ.Env.read_env(env.str("PORTAL_ENV_FILE"))


def _setting(name, cast, default):
    """Read one variable; a malformed value stops start-up with the variable's name."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc


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
    "calls",
    "api",
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
_CALL_DELEGATION = ["CallDelegation.Read", "CallDelegation.ReadWrite"]
MS_SIGNIN_SCOPES = _setting("MS_SIGNIN_SCOPES", env.list, ["User.Read", *_CALL_DELEGATION])
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

# --- Delegation sync -----------------------------------------------------------------------
SYNC_SCHEDULE_MINUTES = _setting("SYNC_SCHEDULE_MINUTES", env.int, 60)
# 6 keeps 5.98 slots busy in bench/sync.py (20,000 people, 100 ms): 1.12x its floor; 8 is faster.
SYNC_BATCHES_IN_FLIGHT = _setting("SYNC_BATCHES_IN_FLIGHT", env.int, 6)
SYNC_SHARD_THRESHOLD = _setting("SYNC_SHARD_THRESHOLD", env.int, 20000)
SYNC_SHARD_SIZE = _setting("SYNC_SHARD_SIZE", env.int, 10000)
# Days between full sweeps of everyone's delegates (else Teams Phone people + delegators; 0: all).
SYNC_FULL_SWEEP_DAYS = _setting("SYNC_FULL_SWEEP_DAYS", env.int, 7)
# Where the tenant grants the application role CallDelegation.Read.All, sync app-only.
SYNC_USE_APP_ONLY = _setting("SYNC_USE_APP_ONLY", env.bool, False)
# ReadWrite: the sync account also applies the changes helpdesk and admins make.
SYNC_SCOPES = _setting("SYNC_SCOPES", env.list, ["User.Read.All", *_CALL_DELEGATION])
SYNC_LOCK_TTL_SECONDS = _setting("SYNC_LOCK_TTL_SECONDS", env.int, 3600)

# --- Delegation changes (add, change, remove delegates); each is explained in .env.example ----
DELEGATION_WRITE_METHOD = _setting("DELEGATION_WRITE_METHOD", env.str, "graph")
DELEGATION_APPROVAL_POLICY = _setting("DELEGATION_APPROVAL_POLICY", env.str, "risky")
for _name, _allowed in (
    ("DELEGATION_WRITE_METHOD", ("graph", "powershell")),
    ("DELEGATION_APPROVAL_POLICY", ("none", "risky", "all")),
):
    if globals()[_name] not in _allowed:
        raise ImproperlyConfigured(f"Setting {_name} must be one of {', '.join(_allowed)}")
DELEGATION_CHANGE_MAX_END_DAYS = _setting("DELEGATION_CHANGE_MAX_END_DAYS", env.int, 365)
DELEGATION_CHANGE_SCHEDULE_SECONDS = _setting("DELEGATION_CHANGE_SCHEDULE_SECONDS", env.int, 60)
DELEGATION_CHANGE_MAX_ATTEMPTS = _setting("DELEGATION_CHANGE_MAX_ATTEMPTS", env.int, 5)
DELEGATION_CHANGE_RETRY_SECONDS = _setting("DELEGATION_CHANGE_RETRY_SECONDS", env.int, 60)
DELEGATION_CHANGE_LEASE_SECONDS = _setting("DELEGATION_CHANGE_LEASE_SECONDS", env.int, 900)
DELEGATION_CHANGE_LEASE_WAIT_SECONDS = _setting(
    "DELEGATION_CHANGE_LEASE_WAIT_SECONDS", env.float, 20
)
DELEGATION_CSV_MAX_BYTES = _setting("DELEGATION_CSV_MAX_BYTES", env.int, 5 * 1024 * 1024)
DELEGATION_CSV_MAX_ROWS = _setting("DELEGATION_CSV_MAX_ROWS", env.int, 5000)
DELEGATION_BATCH_STALE_SECONDS = _setting("DELEGATION_BATCH_STALE_SECONDS", env.int, 900)

# --- Calls ---------------------------------------------------------------------------------
# Public https base URL where Graph posts call notifications (our /calls/callback).
CALLS_CALLBACK_BASE_URL = env.str("CALLS_CALLBACK_BASE_URL", default="")
CALLS_CALLBACK_OPENID_CONFIG = env.str(
    "CALLS_CALLBACK_OPENID_CONFIG",
    default="https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration",
)
CALLS_CALLBACK_ISSUERS = _setting(
    "CALLS_CALLBACK_ISSUERS",
    env.list,
    ["https://graph.microsoft.com", "https://api.botframework.com"],
)
# The resource account (application instance) whose number places PSTN calls.
CALLS_APP_INSTANCE_ID = env.str("CALLS_APP_INSTANCE_ID", default="")
CALLS_APP_INSTANCE_NUMBER = env.str("CALLS_APP_INSTANCE_NUMBER", default="")
CALLS_DEFAULT_REGION = env.str("CALLS_DEFAULT_REGION", default="US")
CALLS_KEEPALIVE_SECONDS = _setting("CALLS_KEEPALIVE_SECONDS", env.int, 15 * 60)
# How long an incoming call rings before it can no longer be redirected (the page counts down).
CALLS_REDIRECT_WINDOW_SECONDS = _setting("CALLS_REDIRECT_WINDOW_SECONDS", env.int, 15)

# --- The automation API (/api/, Entra ID bearer tokens): docs/api.md, defaults in .env.example
API_APP_ID_URI = env.str("API_APP_ID_URI", default="")
API_OPENID_CONFIG = env.str("API_OPENID_CONFIG", default="")
API_ISSUERS = _setting("API_ISSUERS", env.list, [])
API_RATE_LIMIT_PER_MINUTE = _setting("API_RATE_LIMIT_PER_MINUTE", env.int, 120)

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
# Periods come from the settings above, so each is an environment variable.
CELERY_BEAT_SCHEDULE = {
    "sync-delegations": {
        "task": "delegation.tasks.scheduled_sync",
        "schedule": SYNC_SCHEDULE_MINUTES * 60.0,
    },
    "calls-keepalive": {
        "task": "calls.tasks.keep_calls_alive",
        "schedule": max(60.0, CALLS_KEEPALIVE_SECONDS / 3),
    },
    "portal-worker-heartbeat": {"task": "portal.tasks.worker_heartbeat", "schedule": 60.0},
    "portal-clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": 3600.0,
    },
    # Ends time-boxed grants that are due, and retries changes waiting for another attempt.
    "delegation-changes-due": {
        "task": "delegation.changes.tasks.changes_due",
        "schedule": float(DELEGATION_CHANGE_SCHEDULE_SECONDS),
    },
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
