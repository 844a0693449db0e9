"""A time-boxed delegation, end to end in a real browser: helpdesk gives assistant@ "make calls"
for boss@ until a date and sees it verified in Teams (graphsim), assistant@ sees it on My
delegations, and the end-date job, run on a clock the test sets, ends it. A real Celery worker
applies both the grant and its ending with the sync account's delegated token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.services import due
from delegation.models import DirectoryUser
from delegation.sync.service import sync_now
from tests.support.browser import browser_login
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]
SYNC_UPN = "manager@contoso.test"


@pytest.fixture
def worker(graphsim, monkeypatch, request):
    """A real worker pointed at graphsim, acting with the sync account, retrying at once."""
    env = {
        "MS_TENANT_ID": graphsim["tenant"],
        "MS_CLIENT_ID": graphsim["client_id"],
        "MS_CLIENT_SECRET": graphsim["client_secret"],
        "MS_AUTHORITY": graphsim["authority"],
        "MS_INSTANCE_DISCOVERY": "false",
        "GRAPH_BASE_URL": graphsim["graph"],
        "GRAPH_CA_BUNDLE": graphsim["ca"],
        "SYNC_USE_APP_ONLY": "false",
        "DELEGATION_CHANGE_RETRY_SECONDS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return request.getfixturevalue("celery_worker_process")


@pytest.fixture
def tab_for(browser, live_server):
    """A signed-in tab of its own (own cookies) for each person."""
    contexts = []

    def open_as(upn: str):
        context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        browser_login(tab, live_server, upn)
        return tab

    yield open_as
    for context in contexts:
        context.close()


def graphsim_grant(sim, delegator: str, delegate: str) -> dict | None:
    ids = {local: sim.get(f"users/{local}@contoso.test")["id"] for local in (delegator, delegate)}
    for row in sim.get("truth")["delegations"]:
        if (row["delegator"], row["delegate"]) == (ids[delegator], ids[delegate]):
            return row
    return None


def settled(change: ChangeRequest, status: str) -> bool:
    change.refresh_from_db()
    return change.status == status or change.is_final


def test_helpdesk_grants_make_calls_until_a_date_and_the_end_date_job_ends_it(
    page, live_server, sim, settings, tab_for, worker
):
    from playwright.sync_api import expect

    settings.SYNC_USE_APP_ONLY = False
    # Start from "no grant": in the demo tenant assistant@ already acts for boss@.
    sim.post(
        "tenant",
        {"delegations": {"remove": [{"delegator": "boss@contoso.test",
                                     "delegate": "assistant@contoso.test"}]}},
    )  # fmt: skip

    # An admin connects the sync account (the helpdesk's writes act with its token).
    admin = tab_for("admin@contoso.test")
    admin.goto("/admin-tools/sync-account")
    admin.get_by_role("button", name="Connect the sync account").click()
    admin.locator(f'button[name="login_hint"][value="{SYNC_UPN}"]').click()
    expect(admin.locator("[data-status]").first).to_have_attribute("data-status", "connected")
    run = sync_now()
    assert run.status == "succeeded", run.error
    boss = DirectoryUser.objects.get(upn="boss@contoso.test")
    assistant = DirectoryUser.objects.get(upn="assistant@contoso.test")

    # Helpdesk: boss@'s delegates, add assistant@ with "make calls" until a date.
    browser_login(page, live_server, "helpdesk@contoso.test")
    page.goto(f"/people/{boss.object_id}/")
    page.get_by_role("link", name=re.compile(r"^Add a delegate")).click()
    page.locator("#delegate-search").fill("Ari Assist")
    page.locator(f'#delegate-results input[value="{assistant.object_id}"]').check()
    page.get_by_label("Make calls", exact=True).check()
    ends_on = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT17:00")
    page.locator('input[name="ends_at"]').fill(ends_on)
    page.get_by_role("button", name="Add the delegate").click()
    page.wait_for_url(re.compile(r"/changes/\d+/$"))
    change = ChangeRequest.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert (change.kind, change.acting_as, change.on_end) == ("add", "staff", "remove")
    assert change.ends_at > timezone.now() + timedelta(days=2)

    wait_for(lambda: settled(change, states.VERIFIED), timeout=90)
    assert change.status == states.VERIFIED, change.failure
    page.reload()
    expect(page.locator("#change-state [data-status]")).to_have_attribute("data-status", "verified")
    expect(page.locator("#change-ends")).to_contain_text("remove the delegate")
    teams = graphsim_grant(sim, "boss", "assistant")
    assert teams["allowedActions"]["makeCalls"] is True
    assert teams["allowedActions"]["receiveCalls"] is False

    # Assistant: My delegations lists boss@ among the people they act for, making calls only.
    mine = tab_for("assistant@contoso.test")
    mine.goto("/me/delegations")
    row = mine.get_by_role("row").filter(has_text="boss@contoso.test")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Make calls")
    expect(row).not_to_contain_text("Receive calls")

    # The end-date job, on the test's clock: a minute before the end nothing happens...
    assert due.changes_due(now=change.ends_at - timedelta(minutes=1))["ended"] == []
    # ...a minute after, the ending request is made, and the worker removes the grant.
    [ending_id] = due.changes_due(now=change.ends_at + timedelta(minutes=1))["ended"]
    ending = ChangeRequest.objects.get(pk=ending_id)
    wait_for(lambda: settled(ending, states.VERIFIED), timeout=90)
    assert ending.status == states.VERIFIED, ending.failure
    change.refresh_from_db()
    assert change.status == states.ENDED and change.ended_by_id == ending_id
    assert graphsim_grant(sim, "boss", "assistant") is None

    page.reload()
    expect(page.locator("#change-state [data-status]")).to_have_attribute("data-status", "ended")
    expect(page.locator("#change-ends")).to_contain_text(f"ended by #{ending_id}")
    mine.reload()
    expect(mine.get_by_role("row").filter(has_text="boss@contoso.test")).to_have_count(0)
    expect(mine.locator("main")).to_contain_text("Nobody has made you their delegate")
    assert page.console_errors.of(live_server.url) == []
