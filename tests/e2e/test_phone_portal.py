"""The browser phone on the portal's real page, signed in, in Chromium with fake media devices.

Everything up to Microsoft's calling service is real: graphsim's sign-in page, the incremental
consent for the calling scope, the portal's token view (the delegation re-checked live, the
Entra token exchanged by the real `azure-communication-identity` client against graphsim), the
real ACS Calling SDK creating its call agent with that token. Past that edge this machine is
offline (every other host is refused here): the page must say so in words. The same page with
the scripted stand-in then places, reports and ends a call.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
from playwright.sync_api import expect

from calls.phone import views as phone_views
from portal.models import AuditEvent
from tests.support.browser import browser_login, watch_for_script_errors
from tests.support.factories import load_demo_directory

pytestmark = pytest.mark.e2e

STAND_IN = "/test-assets/phone_standin.js"
STAND_IN_FILE = Path(__file__).parent / "assets" / "phone_standin.js"
OFFLINE = "Microsoft's calling service cannot be reached"
CONSENT = "Allow the portal to make calls for you from the browser first"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Offline:
    """The network as on a machine that reaches only the portal and graphsim: every other
    request is recorded (with the token it carries, if any) and refused."""

    def __init__(self, *reachable: str):
        self.reachable = {origin(url) for url in reachable}
        self.refused: list[str] = []
        self.bearers: list[str] = []

    def handle(self, route) -> None:
        request = route.request
        if urlsplit(request.url).path == STAND_IN:
            route.fulfill(body=STAND_IN_FILE.read_bytes(), content_type="text/javascript")
        elif origin(request.url) in self.reachable:
            route.continue_()
        else:
            self.refused.append(request.url)
            auth = request.headers.get("authorization", "")
            if auth:  # the SDK sends its token bare, without "Bearer "
                self.bearers.append(auth.removeprefix("Bearer "))
            route.abort("internetdisconnected")


@pytest.fixture
def phone(media_browser, live_server, graph_settings, graphsim, sim, transactional_db):
    """(tab, network, people): a fake-media tab on the live portal, signed in as Ari Assistant
    (Bea Boss lets her make and receive calls), with the demo tenant in the portal's cache."""
    people = load_demo_directory(sim.get("truth"))
    context = media_browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    context.set_default_timeout(15_000)
    network = Offline(live_server.url, graphsim["authority"])
    context.route("**/*", network.handle)
    tab = context.new_page()
    tab.errors = watch_for_script_errors(tab)
    browser_login(tab, live_server, "assistant@contoso.test")
    yield tab, network, people
    context.close()


def status(tab):
    return tab.locator("#phone-status")


def open_and_allow_calling(tab) -> None:
    """The navigation's Phone link; the page asks for consent; allow it at graphsim."""
    tab.get_by_role("link", name="Phone", exact=True).click()
    expect(status(tab)).to_have_text("The phone could not start.")
    expect(tab.locator("#phone-error")).to_contain_text(CONSENT)
    tab.get_by_role("button", name="Allow calling from the browser").click()
    tab.wait_for_url(re.compile(r"/calls/phone/$"))


def test_real_sdk_starts_with_the_portals_token_after_consent_and_says_offline_in_words(phone):
    tab, network, people = phone
    open_and_allow_calling(tab)
    expect(status(tab)).to_contain_text(OFFLINE, timeout=20_000)
    expect(tab.locator("#phone")).to_have_attribute("data-state", "offline")
    assert tab.evaluate("typeof window.AcsCalling.CallClient") == "function"
    expect(tab.locator("#phone-call")).to_be_disabled()
    # The SDK took the token (else the page says so) and presented it to Microsoft's services,
    # which this offline machine refused: it is the ACS token graphsim issued for Ari.
    expect(tab.locator("#phone-error")).to_have_text("")
    assert any("teams.microsoft.com" in url for url in network.refused)
    skype_ids = {
        jwt.decode(b, options={"verify_signature": False}).get("skypeid") for b in network.bearers
    }
    assert f"orgid:{people['assistant'].object_id}" in skype_ids
    outcomes = [(e.action, e.outcome) for e in AuditEvent.objects.order_by("id")]
    assert ("phone.token", "denied") in outcomes  # before consent: no token
    assert outcomes[-2:] == [("consent", "success"), ("phone.token", "success")]
    assert tab.errors == []


def test_stand_in_on_the_real_page_places_reports_and_ends_a_call(phone, monkeypatch):
    tab, _, people = phone
    monkeypatch.setattr(phone_views, "STAND_IN_URL", STAND_IN)
    open_and_allow_calling(tab)
    expect(status(tab)).to_have_text("Ready to call")
    assert tab.evaluate("window.phoneScript.tokens.length") == 1
    boss, callee = people["boss"].object_id, people["nobody"].object_id
    expect(tab.get_by_label("Call on behalf of")).to_have_value(boss)

    tab.get_by_label("Teams person (object id)").fill(callee)
    with tab.expect_response(re.compile(r"/calls/phone/calls$")) as started:
        tab.get_by_role("button", name="Call", exact=True).click()
    assert started.value.status == 204
    assert tab.evaluate("window.phoneScript.calls") == [
        {"target": {"teamsUserId": callee}, "onBehalfOf": boss}
    ]
    tab.evaluate("window.phoneScript.emit('Connected')")
    expect(status(tab)).to_have_text("Connected")
    with tab.expect_response(re.compile(r"/calls/phone/calls$")) as ended:
        tab.get_by_role("button", name="Hang up").click()
    assert ended.value.status == 204
    expect(status(tab)).to_have_text("Call ended")

    rows = [
        (e.action, e.target, e.detail["on_behalf_of"], e.actor.upn)
        for e in AuditEvent.objects.filter(action__startswith="phone.call.").order_by("id")
    ]
    assert rows == [
        ("phone.call.started", callee, boss, "assistant@contoso.test"),
        ("phone.call.ended", callee, boss, "assistant@contoso.test"),
    ]
    assert tab.errors == []
