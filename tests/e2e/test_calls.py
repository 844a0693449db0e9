"""In Chromium: a delegate calls for their delegator, watches the call connect live, transfers it
to a delegate allowed to receive the delegator's calls, and sees it end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser_login
from tests.support.factories import load_demo_directory

pytestmark = pytest.mark.e2e


def test_delegate_calls_on_behalf_transfers_to_an_allowed_delegate_and_sees_it_end(
    page, live_server, sim, settings
):
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    people = load_demo_directory(sim.get("truth"))
    boss, callee, deputy = people["boss"], people["nobody"], people["deputy"]
    try:
        browser_login(page, live_server, "assistant@contoso.test")
        # The dashboards' "start a call on behalf of" link.
        page.goto(f"/calls/new?on_behalf_of={boss.object_id}")
        expect(page.locator("#id_on_behalf_of")).to_have_value(boss.object_id)
        page.locator("#person-search").fill("Nils")
        page.locator("#person-search").press("Enter")  # searches; does not submit the form
        page.locator(f'#person-results input[value="{callee.object_id}"]').check()
        page.get_by_role("button", name="Call", exact=True).click()
        expect(page).to_have_url(re.compile(r"/calls/\d+/$"))
        expect(page.get_by_role("heading", name="Call to Nils Nobody")).to_be_visible()
        expect(page.locator("#call-state")).to_have_text("Connected")  # live, through htmx

        page.locator(f'#transfer-form input[value="{deputy.object_id}"]').check()
        page.get_by_role("button", name="Transfer").click()
        expect(page.locator("#call-state")).to_have_text("Ended")
        expect(page.locator("#call-result")).to_have_text("transfer completed")
        expect(page.locator("#call-timeline")).to_contain_text("Transfer to Dev Deputy")
        # No CSP violation or script error (the browser's own favicon probe is not ours).
        errors = [(url, text) for url, text in page.console_errors if "favicon" not in url]
        assert errors == []
    finally:
        sim.post("reset", {"calls": True, "config": True})
