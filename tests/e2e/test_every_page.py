"""Every page of the portal, as each kind of person sees it, in Chromium: no serious or critical
axe-core violation at desktop width or at 390 px, and nothing scrolls sideways at 390 px
(tests/support/pagecheck.py). graphsim's sign-in page is checked by the sign-in tests, whose
`page` fixture checks every page it loads."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.support.browser import signed_in_context
from tests.support.factories import grant, person
from tests.support.pagecheck import DESKTOP, PHONE, page_problems
from tests.support.reviews import campaign as a_campaign

pytestmark = pytest.mark.e2e


def a_tenant(me):
    """A small cache with something on every page: grants to and from `me`, a risky grant, a
    long name, a finished run with unread people and a running one."""
    from delegation.models import SyncRun

    boss = person("Bea Boss", department="Executive Office of the Chief Executive")
    helper = person("Ari Assistant", object_id=me.object_id, upn=me.upn)
    grant(boss, helper, make_calls=True, receive_calls=True, created_in_teams=timezone.now())
    grant(helper, person("Dev Deputy"), manage_settings=True, join_active_calls=True)
    long = person("Maximiliane-Alexandra Oberhuber-Wittgenstein-Zu-Lichtenberg", department="Legal")
    grant(long, person('<script>alert(1)</script> O\'Brien & "Co"'), receive_calls=True)
    an_alert_digest(long.display_name)
    SyncRun.objects.create(
        trigger="manual",
        status="partial",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        people=3,
        failed_user_ids=[boss.object_id, "0000-not-in-the-cache"],
        failures={"throttled": 2},
        graph_requests=4,
        throttled=2,
    )
    running = SyncRun.objects.create(
        trigger="manual", status="running", started_at=timezone.now(), progress_total=500
    )
    campaign = a_campaign(me, named=[helper])
    return {"boss": boss, "running": running, "campaign": campaign}


def an_alert_digest(name: str) -> None:
    """A digest on the notifications page: a long name, an escaped one, a failed delivery."""
    from alerts.models import Delivery, Digest, Finding
    from delegation.models import SyncRun

    run = SyncRun.objects.create(trigger="schedule", status="succeeded", finished_at=timezone.now())
    digest = Digest.objects.create(run=run, findings_count=2, counts={"outside_department": 2})
    for delegate in ("Dev Deputy", '<script>alert(1)</script> O\'Brien & "Co"'):
        sentence = "The delegate is in Legal; the delegator in Executive Office of the Chief."
        Finding.objects.create(
            digest=digest,
            rule="outside_department",
            delegator_id="x",
            delegator=name,
            delegate_id="y",
            delegate=delegate,
            sentence=sentence,
        )
    Delivery.objects.create(
        digest=digest,
        channel="teams",
        target="https://contoso.webhook.office.com/webhookb2/…",
        target_key="k",
        state="failed",
        attempts=8,
        rules=["outside_department"],
        last_error="HTTP 503 from https://contoso.webhook.office.com/webhookb2/…",
    )


PAGES = {
    "none": ["/me/delegations", "/no-access", "/calls/"],
    "helpdesk": ["/", "/me/delegations", "/people/", "/people/?q=bea", "/calls/", "/calls/new"],
    "manager": [
        "/me/delegations",
        "/organisation/",
        "/organisation/?department=Legal",
        "/organisation/reviews",
        "/alerts/",
        "/reviews/mine",
        "/reviews/mine?status=all&risk=manage_outside",
        "/reviews/campaigns/",
        "/reviews/campaigns/new",
    ],
    "admin": [
        "/",
        "/sync/",
        "/admin-tools/sync-account",
        "/admin-tools/audit",
        "/organisation/",
        "/people/",
        "/alerts/",
    ],
}


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_passes_axe_core_and_fits_390_pixels(
    role, browser, live_server, transactional_db, make_user
):
    me = make_user(None if role == "none" else role)
    made = a_tenant(me)
    context = signed_in_context(browser, live_server.url, me, viewport=DESKTOP, timeout_ms=30_000)
    pages = PAGES[role] + (
        [f"/people/{made['boss'].object_id}/"] if role in ("helpdesk", "admin") else []
    )
    pages += [f"/sync/{made['running'].pk}/", f"/sync/{made['running'].pk - 1}/"] * (
        role == "admin"
    )
    campaign = f"/reviews/campaigns/{made['campaign'].pk}/"
    pages += [campaign, f"{campaign}report"] * (role == "manager")
    tab = context.new_page()
    problems = []
    try:
        for path in pages:
            response = tab.goto(path)
            assert response.status == 200, (path, response.status)
            problems += page_problems(tab, label=path)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_sign_in_page_passes_axe_core_and_fits_390_pixels(browser, live_server, db):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, timeout_ms=30_000)
    tab = context.new_page()
    try:
        tab.goto("/auth/login")
        problems = page_problems(tab, label="/auth/login")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_review_note_field_is_usable_on_a_phone(
    browser, live_server, transactional_db, make_user
):
    me = make_user("manager")
    a_tenant(me)
    context = signed_in_context(browser, live_server.url, me, viewport=PHONE, timeout_ms=30_000)
    try:
        tab = context.new_page()
        tab.goto("/reviews/mine")  # decisions moved from the risky-grants page to campaigns
        note = tab.get_by_label("Note (one for every decision you make here)")
        assert note.bounding_box()["width"] >= 300  # was about 10 px
    finally:
        context.close()
