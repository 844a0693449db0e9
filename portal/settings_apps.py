"""Settings each app reads (the sync, delegation changes, calls, the automation API) and the app's
scheduled tasks. `portal.settings` star-imports this module, so every name here is a Django
setting; each variable is explained in .env.example."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from portal.settings_env import CALL_DELEGATION_SCOPES, env
from portal.settings_env import setting as _setting

# --- Delegation sync -----------------------------------------------------------------------
SYNC_SCHEDULE_MINUTES = _setting("SYNC_SCHEDULE_MINUTES", env.int, 60)
# 6 keeps 5.98 slots busy in bench/sync.py (20,000 people, 100 ms): 1.12x its floor; 8 is faster.
SYNC_BATCHES_IN_FLIGHT = _setting("SYNC_BATCHES_IN_FLIGHT", env.int, 6)
SYNC_SHARD_THRESHOLD = _setting("SYNC_SHARD_THRESHOLD", env.int, 20000)
SYNC_SHARD_SIZE = _setting("SYNC_SHARD_SIZE", env.int, 10000)
# Days between full sweeps of everyone's delegates (else Teams Phone people + delegators; 0: all).
SYNC_FULL_SWEEP_DAYS = _setting("SYNC_FULL_SWEEP_DAYS", env.int, 7)
# Days between reads of everyone's manager on their own (also after a sync that lists everyone).
SYNC_MANAGER_REFRESH_DAYS = _setting("SYNC_MANAGER_REFRESH_DAYS", env.int, 7)
# Where the tenant grants the application role CallDelegation.Read.All, sync app-only.
SYNC_USE_APP_ONLY = _setting("SYNC_USE_APP_ONLY", env.bool, False)
# ReadWrite: the sync account also applies the changes helpdesk and admins make.
SYNC_SCOPES = _setting("SYNC_SCOPES", env.list, ["User.Read.All", *CALL_DELEGATION_SCOPES])
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

# The portal's address as people reach it, for the links in emails and Teams cards (reminders,
# alert digests); not the calls' callback address, which Microsoft reaches.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Risk rules and reviews (delegation/risk, reviews/); each is explained in .env.example -----
REVIEW_INACTIVE_DAYS = _setting("REVIEW_INACTIVE_DAYS", env.int, 90)
REVIEW_NEAR_LIMIT = _setting("REVIEW_NEAR_LIMIT", env.int, 23)
REVIEW_REMIND_DAYS = _setting("REVIEW_REMIND_DAYS", env.int, 3)
REVIEW_REMIND_HOURS = _setting("REVIEW_REMIND_HOURS", env.int, 6)

# --- Alerts after each sync (alerts/); each is explained in .env.example ----------------------
# Email through Django's email framework: console in the demo, SMTP in production (EMAIL_URL,
# e.g. smtp+tls://user:password@mail.example.com:587).
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="delegation-portal@localhost")
EMAIL_TIMEOUT = _setting("EMAIL_TIMEOUT", env.int, 30)
ALERT_RULES_ON = _setting(
    "ALERT_RULES_ON",
    env.list,
    ["manage_settings", "disabled_account", "outside_department", "many_delegates", "drift"],
)
ALERT_MANY_DELEGATES = _setting("ALERT_MANY_DELEGATES", env.int, 20)  # "past N delegates"
ALERT_EMAIL_TO = _setting("ALERT_EMAIL_TO", env.list, [])
ALERT_EMAIL_RULES = _setting("ALERT_EMAIL_RULES", env.list, ALERT_RULES_ON)
ALERT_TEAMS_WEBHOOK_URLS = _setting("ALERT_TEAMS_WEBHOOK_URLS", env.list, [])
ALERT_TEAMS_RULES = _setting("ALERT_TEAMS_RULES", env.list, ALERT_RULES_ON)
ALERT_WEBHOOK_CA_BUNDLE = env.str("ALERT_WEBHOOK_CA_BUNDLE", default="")  # "": the system's
ALERT_WEBHOOK_TIMEOUT_SECONDS = _setting("ALERT_WEBHOOK_TIMEOUT_SECONDS", env.float, 10)
ALERT_DELIVERY_MAX_ATTEMPTS = _setting("ALERT_DELIVERY_MAX_ATTEMPTS", env.int, 8)
ALERT_DELIVERY_RETRY_SECONDS = _setting("ALERT_DELIVERY_RETRY_SECONDS", env.int, 30)
ALERT_DELIVERY_SCHEDULE_SECONDS = _setting("ALERT_DELIVERY_SCHEDULE_SECONDS", env.int, 30)
ALERT_MAX_ROWS = _setting("ALERT_MAX_ROWS", env.int, 50)  # rows in an email; the card shows 15

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
API_DELEGATED_SCOPE = env.str("API_DELEGATED_SCOPE", default="access_as_user")
API_RATE_LIMIT_PER_MINUTE = _setting("API_RATE_LIMIT_PER_MINUTE", env.int, 120)

# --- Scheduled tasks (Celery beat); periods come from the settings above --------------------
APP_BEAT_SCHEDULE = {
    "sync-delegations": {
        "task": "delegation.tasks.scheduled_sync",
        "schedule": SYNC_SCHEDULE_MINUTES * 60.0,
    },
    # The safety net for managers (delegation/sync/managers.py): users/delta keeps them current.
    "sync-managers": {
        "task": "delegation.tasks.refresh_managers",
        "schedule": max(1, SYNC_MANAGER_REFRESH_DAYS) * 86400.0,
    },
    "calls-keepalive": {
        "task": "calls.tasks.keep_calls_alive",
        "schedule": max(60.0, CALLS_KEEPALIVE_SECONDS / 3),
    },
    # Ends time-boxed grants that are due, and retries changes waiting for another attempt.
    "delegation-changes-due": {
        "task": "delegation.changes.tasks.changes_due",
        "schedule": float(DELEGATION_CHANGE_SCHEDULE_SECONDS),
    },
    # Sends alert deliveries that wait for another attempt (a receiver that failed, Retry-After).
    "alerts-deliveries-due": {
        "task": "alerts.tasks.deliveries_due",
        "schedule": float(ALERT_DELIVERY_SCHEDULE_SECONDS),
    },
    # Review campaigns due soon: one reminder a day to each reviewer with grants left.
    "reviews-reminders": {
        "task": "reviews.tasks.send_reminders",
        "schedule": REVIEW_REMIND_HOURS * 3600.0,
    },
    # Review campaigns past their due date close by themselves (an hour after midnight at most).
    "reviews-close-overdue": {"task": "reviews.tasks.close_overdue", "schedule": 3600.0},
}
