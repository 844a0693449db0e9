"""In Chromium, with call actions on a real Celery worker: helpdesk opens a person's page,
clicks Call, and the call page follows both legs (the portal rings helpdesk's own Teams, then
puts them through to the person) to "talking" and then "ended"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.support.browser import browser_login
from tests.support.factories import load_demo_directory
from tests.support.processes import graphsim_env

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]


@pytest.fixture
def worker_env(graphsim, live_server, monkeypatch, settings):
    """The worker places and transfers the calls: it reaches graphsim and gives graphsim this
    live server's callback address (it reads the environment)."""
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    env = {**graphsim_env(graphsim), "CALLS_CALLBACK_BASE_URL": live_server.url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_helpdesk_calls_from_a_persons_page_and_follows_both_legs_to_talking_and_ended(
    page, live_server, sim, worker_env, celery_worker_process
):
    people = load_demo_directory(sim.get("truth"))
    nils = people["nobody"]
    # Slow enough that each state is on the page for a few of its one-second polls.
    sim.post("config", {"answer_ms": 1500, "transfer_ms": 3000, "callback_disorder": "off"})
    try:
        browser_login(page, live_server, "helpdesk@contoso.test")
        page.goto(reverse("delegation:person", args=[nils.object_id]))
        page.get_by_role("link", name="Call Nils Nobody").click()
        expect(page.locator(f'#person-results input[value="{nils.object_id}"]')).to_be_checked()
        expect(page.get_by_text("first rings you in Microsoft Teams")).to_be_visible()
        page.get_by_role("button", name="Call", exact=True).click()
        expect(page).to_have_url(re.compile(r"/calls/\d+/$"))
        expect(page.get_by_role("heading", name="Call to Nils Nobody")).to_be_visible()

        state, legs = page.locator("#call-state"), page.locator("#call-legs")
        expect(state).to_have_text("Talking", timeout=30_000)
        expect(page.locator("#call-detail")).to_have_text("Hugo Helpdesk and Nils Nobody")
        expect(legs.locator("#call-leg-1 .leg-state")).to_have_text("Answered")
        expect(legs.locator("#call-leg-2 .leg-state")).to_have_text("Talking")

        expect(state).to_have_text("Ended", timeout=30_000)
        expect(page.locator("#call-detail")).to_contain_text(
            "Hugo Helpdesk was put through to Nils Nobody"
        )
        expect(legs.locator("#call-leg-1")).to_contain_text("Ended (handed over to Teams)")
        expect(legs.locator("#call-leg-1")).to_contain_text("rang")
        expect(legs.locator("#call-leg-2")).to_contain_text("talking since")
        timeline = page.locator("#call-timeline")
        for step in (
            "Ringing Hugo Helpdesk",
            "Hugo Helpdesk answered",
            "Ringing Nils Nobody",
            "Nils Nobody answered: talking",
            "Put through to Nils Nobody: the portal left the call",
        ):
            expect(timeline).to_contain_text(step)
        expect(page.locator("#end-form")).to_have_count(0)  # over: nothing left to do
        assert page.console_errors.of(live_server.url) == []
    finally:
        sim.post("reset", {"calls": True, "config": True})
