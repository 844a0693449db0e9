"""The browser phone in Chromium with fake media devices: the real ACS Calling SDK starts with a
token from graphsim's exchange and says plainly that Microsoft's service cannot be reached; the
call flow and every error are driven through the scripted stand-in and read back in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import watch_for_script_errors
from tests.support.phone_site import DELEGATORS, ORIGIN, PhoneSite, csp_header, render_phone_page

pytestmark = pytest.mark.e2e

CALLEE = "0c0c0c0c-0000-4000-8000-00000000ca11"
OFFLINE = "Microsoft's calling service cannot be reached"


@pytest.fixture
def open_phone(media_browser, settings, db):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    contexts = []

    def open_page(
        *, stand_in: bool, connect_timeout_ms=None, token_answer=None, width=1280, query=""
    ):
        site = PhoneSite(
            render_phone_page(stand_in=stand_in, connect_timeout_ms=connect_timeout_ms),
            csp_header(settings),
        )
        if token_answer:
            site.token_answer = token_answer
        context = media_browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.route("**/*", site.handle)
        page = context.new_page()
        page.errors = watch_for_script_errors(page)
        page.goto(f"{ORIGIN}/calls/phone{query}")
        return page, site

    yield open_page
    for context in contexts:
        context.close()


def status(page):
    return page.locator("#phone-status")


def test_real_sdk_creates_the_teams_call_agent_with_our_token_and_says_offline_in_words(
    open_phone, graph_settings, graphsim
):
    from portal.graph.acs import exchange_teams_token
    from tests.support.acs_tokens import teams_calling_token

    graph_settings.ACS_CONNECTION_STRING = graphsim["acs_connection_string"]
    entra, claims = teams_calling_token(graphsim, "assistant@contoso.test")
    acs = exchange_teams_token(entra, graphsim["client_id"], claims["oid"])
    page, site = open_phone(
        stand_in=False,
        token_answer=(200, {"token": acs.token, "expires_on": acs.expires_on.isoformat()}),
    )
    assert page.evaluate("typeof window.AcsCalling.CallClient") == "function"
    expect(status(page)).to_contain_text(OFFLINE, timeout=60_000)
    # The page's own time-out said it, not the SDK's much later one: no hang, whatever the load.
    expect(page.locator("#phone")).to_have_attribute("data-offline-by", "timeout")
    expect(page.locator("#phone")).to_have_attribute("data-state", "offline")
    expect(page.locator("#phone-call")).to_be_disabled()
    # The SDK accepted our token (else the page says so) and presented it to Microsoft's
    # configuration service, which this offline machine refused.
    expect(page.locator("#phone-error")).to_have_text("")
    assert any(acs.token in header for header in site.bearer_seen), site.refused
    assert any("teams.microsoft.com" in url for url in site.refused)
    assert page.errors == []


@pytest.fixture
def ready_phone(open_phone):
    page, site = open_phone(stand_in=True)
    expect(status(page)).to_have_text("Ready to call")
    return page, site


def call_teams_person(page, delegator_name="Bea Boss"):
    page.get_by_label("Call on behalf of").select_option(label=delegator_name)
    page.get_by_label("Teams person (object id)").fill(CALLEE)
    page.get_by_role("button", name="Call", exact=True).click()


def test_stand_in_gets_the_token_from_the_portal_and_the_phone_is_ready(ready_phone):
    page, _ = ready_phone
    assert page.evaluate("window.phoneScript.tokens") == ["stand-in-token"]
    expect(page.locator("#phone-call")).to_be_enabled()
    expect(page.get_by_text("Calls for Bea Boss also ring here")).to_be_visible()


def test_a_call_goes_placing_ringing_connected_on_hold_and_ended_in_words(ready_phone):
    page, _ = ready_phone
    call_teams_person(page, "Mona Manager")
    expect(status(page)).to_have_text("Calling…")
    assert page.evaluate("window.phoneScript.calls") == [
        {"target": {"teamsUserId": CALLEE}, "onBehalfOf": DELEGATORS[1]["object_id"]}
    ]
    expect(page.get_by_label("Microphone to use")).to_be_enabled()
    expect(page.locator("#phone-microphone-status")).to_have_text("Microphone allowed")
    page.evaluate("window.phoneScript.emit('Ringing')")
    expect(status(page)).to_have_text("Ringing…")
    page.evaluate("window.phoneScript.emit('Connected')")
    expect(status(page)).to_have_text("Connected")
    page.get_by_role("button", name="Mute").click()
    expect(page.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Hold").click()
    expect(status(page)).to_have_text("On hold")
    page.get_by_role("button", name="Resume").click()
    expect(status(page)).to_have_text("Connected")
    page.get_by_role("button", name="Hang up").click()
    expect(status(page)).to_have_text("Call ended")
    expect(page.locator("#phone-error")).to_have_text("")
    expect(page.locator("#phone-controls")).to_be_hidden()
    assert page.evaluate("window.phoneScript.actions") == ["mute", "hold", "resume", "hangUp"]
    assert page.errors == []


def test_a_phone_number_is_called_in_e164_and_a_bad_one_is_explained(ready_phone):
    page, _ = ready_phone
    page.get_by_label("A phone number").check()
    page.get_by_label("Phone number (with country code)").fill("020 7946 0000")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.locator("#phone-error")).to_contain_text("with its country code")
    page.get_by_label("Phone number (with country code)").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(status(page)).to_have_text("Calling…")
    assert page.evaluate("window.phoneScript.calls[0].target") == {"phoneNumber": "+442079460000"}


@pytest.mark.parametrize(
    ("code", "sub_code", "words"),
    [
        (405, 46450, "not enabled for your organisation"),
        (405, 46451, "not permitted to call on behalf of this person"),
        (405, 46452, "allowDelegation is off"),
        (405, 46453, "one-to-one only"),
        (490, 4525, "could not reach Microsoft's calling service"),
        (408, 10057, "No answer."),
        (603, 0, "The call was declined."),
        (500, 9999, "The call failed (error 500/9999)."),
    ],
)
def test_each_call_end_error_is_said_in_words(ready_phone, code, sub_code, words):
    page, _ = ready_phone
    call_teams_person(page)
    expect(status(page)).to_have_text("Calling…")
    page.evaluate(f"window.phoneScript.end({code}, {sub_code})")
    expect(status(page)).to_have_text("Call ended")
    expect(page.locator("#phone-error")).to_contain_text(words)


def test_an_error_thrown_by_start_call_is_said_in_words(ready_phone):
    page, _ = ready_phone
    page.evaluate("window.phoneScript.failNext = {code: 405, subCode: 46451}")
    call_teams_person(page)
    expect(status(page)).to_have_text("Call failed")
    expect(page.locator("#phone-error")).to_contain_text("not permitted")
    expect(page.locator("#phone-call")).to_be_enabled()


def test_an_incoming_call_rings_and_can_be_accepted_or_declined(ready_phone):
    page, _ = ready_phone
    page.evaluate("window.phoneScript.ring('Nils Nobody')")
    expect(page.get_by_role("heading", name="Incoming call from Nils Nobody")).to_be_visible()
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("#phone-incoming")).to_be_hidden()
    page.evaluate("window.phoneScript.ring('Nils Nobody')")
    page.get_by_role("button", name="Accept").click()
    expect(status(page)).to_have_text("Connected")
    assert page.evaluate("window.phoneScript.actions") == ["decline", "accept"]


def test_a_blocked_microphone_is_said_and_no_call_is_placed(open_phone):
    page, _ = open_phone(stand_in=True)
    expect(status(page)).to_have_text("Ready to call")
    page.evaluate("window.phoneScript.microphone = false")
    call_teams_person(page)
    expect(page.locator("#phone-microphone-status")).to_contain_text("Microphone blocked")
    expect(page.locator("#phone-error")).to_have_text("A call needs your microphone.")
    assert page.evaluate("window.phoneScript.calls") == []


def test_an_agent_that_never_connects_is_reported_offline_within_the_timeout(open_phone):
    page, _ = open_phone(stand_in=True, connect_timeout_ms=1500, query="?agent=never")
    expect(status(page)).to_have_text("Connecting to Microsoft's calling service…")
    expect(status(page)).to_contain_text(OFFLINE, timeout=30_000)
    expect(page.locator("#phone")).to_have_attribute("data-offline-by", "timeout")
    expect(page.locator("#phone-call")).to_be_disabled()


def test_a_token_the_sdk_refuses_is_said_in_words(open_phone):
    page, _ = open_phone(stand_in=True, query="?agent=refuse")
    expect(status(page)).to_have_text("The phone could not start.")
    expect(page.locator("#phone-error")).to_have_text("The calling library refused the token.")


def test_a_token_refusal_from_the_portal_offers_consent(open_phone):
    answer = (
        403,
        {"error": "Allow the portal to make calls for you first.", "consent_url": "/auth/consent"},
    )
    page, _ = open_phone(stand_in=True, token_answer=answer)
    expect(status(page)).to_have_text("The phone could not start.")
    expect(page.locator("#phone-error")).to_have_text(
        "Allow the portal to make calls for you first."
    )
    consent = page.get_by_role("button", name="Allow calling from the browser")
    expect(consent).to_be_visible()
    expect(page.locator("#phone-consent")).to_have_attribute("action", "/auth/consent")


def test_the_phone_fits_a_390_pixel_screen(open_phone):
    page, _ = open_phone(stand_in=True, width=390)
    expect(status(page)).to_have_text("Ready to call")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
