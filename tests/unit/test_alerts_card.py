"""The Teams message: an Adaptive Card in the envelope Incoming Webhooks and Workflows accept,
data kept as text, bounded; Retry-After read in both forms; the webhook's secret never shown."""

from __future__ import annotations

import json

from alerts.delivery import teams

ROWS = [
    {
        "label": "New grant that may manage call settings",
        "delegator": "Bea *Boss*",
        "delegate": "[Ari](https://evil.example)",
        "sentence": "Added in Teams.",
    }
]
WEBHOOK = (
    "https://contoso.webhook.office.com/webhookb2/0f1e@9a8b/IncomingWebhook/S3CR3TSIGNATURE/77aa"
)
WORKFLOW = (
    "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=S3CR3TSIGNATURE"
)


def test_the_card_is_an_adaptive_card_in_a_message_envelope():
    payload = teams.card("Alerts after sync #3", [("Drift", 1)], ROWS, 4, "https://p/alerts/")
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == "Alerts after sync #3"
    assert card["body"][1]["facts"] == [{"title": "Drift", "value": "1"}]
    assert card["body"][-1]["text"] == "And 4 more."
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in the portal",
        "url": "https://p/alerts/",
    }
    json.dumps(payload)  # plain JSON all the way down


def test_names_stay_text_never_markdown_links_or_emphasis():
    row = teams.card("t", [], ROWS, 0, "https://p/")["attachments"][0]["content"]["body"][2]
    assert r"Bea \*Boss\*" in row["text"]
    assert r"\[Ari\]\(https://evil.example\)" in row["text"]


def test_the_secret_part_of_a_webhook_url_is_never_shown():
    for url in (WEBHOOK, WORKFLOW):
        shown = teams.redact(url)
        assert "S3CR3T" not in shown and "sig=" not in shown
    assert teams.redact(WEBHOOK) == "https://contoso.webhook.office.com/webhookb2/…"
    assert teams.redact(WORKFLOW) == "https://prod-12.westus.logic.azure.com/workflows/…"


def test_a_webhook_over_plain_http_is_never_posted_to():
    result = teams.post("http://127.0.0.1:9/webhookb2/x/IncomingWebhook/S3CR3TSIGNATURE/y", {})
    assert result.permanent and not result.ok and "S3CR3T" not in result.error
