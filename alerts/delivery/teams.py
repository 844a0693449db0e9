"""A digest as a Teams message: an Adaptive Card posted to an Incoming Webhook or a Workflows URL
(`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <card>}]}`), over HTTPS with the certificate verified.

The address is Microsoft's, so the POST itself goes through the seam (`portal.graph.webhooks`);
this module builds the card and says what an answer means. The URL carries its signature: only
`redact(url)` is ever logged, stored or shown.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from alerts.delivery.result import Result
from portal.graph import webhooks

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


def post(url: str, payload: dict, *, ca_bundle: str = "", timeout: float = 10.0) -> Result:
    """One POST. 2xx: sent. 429 and 5xx: retry later, after Retry-After when given. Any other
    answer: permanent (the card or the address is wrong). Never over plain HTTP: the URL is a
    secret."""
    if not url.lower().startswith("https://"):
        return Result(False, error=f"not an https URL: {redact(url)}", permanent=True)
    answer = webhooks.post_json(url, payload, ca_bundle=ca_bundle, timeout=timeout)
    if answer.status is None:
        return Result(False, error=f"{answer.error}: could not reach {redact(url)}")
    status = answer.status
    if 200 <= status < 300:
        return Result(True, status=status)
    # Teams answers errors in a short text body; it never echoes the URL.
    words = f"HTTP {status} from {redact(url)}: {answer.text}".strip()
    if status in RETRYABLE or status >= 500:
        return Result(False, status, words, answer.retry_after)
    return Result(False, status, words, permanent=True)
