"""A digest as a Teams message: an Adaptive Card posted to an Incoming Webhook or a Workflows URL
(`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <card>}]}`), over HTTPS with the certificate verified.

Not Microsoft Graph, so not in portal/graph/: an address an admin configured, reached with a
plain `requests` session (the one exemption tests/architecture allows, for this module). The URL
carries its signature: only `redact(url)` is ever logged, stored or shown.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from alerts.delivery.result import Result

CARD_VERSION = "1.4"  # what Incoming Webhooks and Workflows both render
CARD_ROWS = 15  # a card is capped near 28 KB: the rest is on the portal's page
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 24 * 3600.0


def redact(url: str) -> str:
    """The URL without its secret: scheme, host and the first path segment."""
    parts = urlsplit(url)
    first = parts.path.strip("/").split("/", 1)[0]
    return f"{parts.scheme}://{parts.hostname or ''}/{first}/…" if first else f"{parts.scheme}://…"


def card(title: str, facts: list[tuple[str, int]], rows: list[dict], more: int, link: str):
    """The message: a heading, the count per rule, the first rows, and a link to the rest."""
    body: list[dict] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "FactSet", "facts": [{"title": label, "value": str(n)} for label, n in facts]},
    ]
    for row in rows:
        who = row["delegator"] + (f" → {row['delegate']}" if row["delegate"] else "")
        body.append(
            {
                "type": "TextBlock",
                "text": f"**{_plain(row['label'])}**: {_plain(who)}. {_plain(row['sentence'])}",
                "wrap": True,
                "spacing": "Small",
            }
        )
    if more:
        body.append({"type": "TextBlock", "text": f"And {more} more.", "wrap": True})
    content = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in the portal", "url": link}],
        "msteams": {"width": "Full"},
    }
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}
    return {"type": "message", "attachments": [attachment]}


def _plain(text: str) -> str:
    """Data shown as text, not markdown: a name with * or [ ] cannot restyle or link."""
    for char in "\\*_[]()`#>~":
        text = text.replace(char, "\\" + char)
    return text


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), bounded; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def post(url: str, payload: dict, *, ca_bundle: str = "", timeout: float = 10.0) -> Result:
    """One POST. 2xx: sent. 429 and 5xx: retry later, after Retry-After when given. Any other
    answer: permanent (the card or the address is wrong). Never over plain HTTP: the URL is a
    secret."""
    if not url.lower().startswith("https://"):
        return Result(False, error=f"not an https URL: {redact(url)}", permanent=True)
    with requests.Session() as session:
        session.trust_env = False  # no proxy or CA from the environment: our settings only
        try:
            answer = session.post(
                url, json=payload, timeout=timeout, verify=ca_bundle or True, allow_redirects=False
            )
        except requests.RequestException as exc:
            return Result(False, error=f"{type(exc).__name__}: could not reach {redact(url)}")
    status = answer.status_code
    if 200 <= status < 300:
        return Result(True, status=status)
    # Teams answers errors in a short text body; it never echoes the URL.
    words = f"HTTP {status} from {redact(url)}: {answer.text[:200]}".strip()
    if status in RETRYABLE or status >= 500:
        return Result(False, status, words, retry_after(answer.headers.get("Retry-After")))
    return Result(False, status, words, permanent=True)
