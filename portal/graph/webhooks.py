"""Posting JSON to a Teams channel's Incoming Webhook or Workflows URL.

Those addresses are Microsoft's (webhook.office.com, logic.azure.com), so they are reached through
this seam like Graph: our CA bundle and timeout, nothing from the environment, no redirect
followed. The URL carries its signature: callers get it back only in what they asked for, and
this module never logs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from portal.graph.client import parse_retry_after
from portal.graph.http import MicrosoftSession

# A receiver may ask for a day's pause at most; past that the delivery is retried on a day's wait.
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class WebhookAnswer:
    status: int | None  # None: no answer at all (`error` says why)
    text: str = ""  # the start of the body (Teams answers errors in a short text)
    retry_after: float | None = None  # seconds, bounded
    error: str = ""  # the failure's type when nothing answered; never the URL


def post_json(url: str, payload: dict, *, ca_bundle: str = "", timeout: float = 10.0):
    """One POST of `payload` to `url` (https only: the caller checks). Returns a WebhookAnswer."""
    with MicrosoftSession(ca_bundle=ca_bundle or True, timeout=timeout) as session:
        try:
            answer = session.post(url, json=payload, allow_redirects=False)
        except requests.RequestException as exc:
            return WebhookAnswer(None, error=type(exc).__name__)
    wait = parse_retry_after(answer.headers.get("Retry-After"), cap=MAX_RETRY_AFTER_SECONDS)
    return WebhookAnswer(answer.status_code, answer.text[:200], wait)
