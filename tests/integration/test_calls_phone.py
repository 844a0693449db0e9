"""The browser phone's server side through real MSAL, graphsim and the real
`azure-communication-identity` client: the page, incremental consent for the calling scope, the
calling token (each refusal in words, none issued), and the calls the page reports, audited."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.phone.selectors import OFFER_SESSION_KEY
from delegation.models import Delegation
from portal.graph.acs import TEAMS_CALLING_SCOPE
from portal.models import AuditEvent
from tests.support.factories import load_demo_directory
from tests.support.signin import LOOPBACK, callback_location, follow_to_callback

pytestmark = pytest.mark.django_db(transaction=True)

EXCHANGE = "POST /teamsUser/:exchangeAccessToken"
CALLEE = "0c0c0c0c-0000-4000-8000-00000000ca11"
BOSS_TO_ARI = {"delegator": "boss@contoso.test", "delegate": "assistant@contoso.test"}


@pytest.fixture
def people(sim, graph_settings):
    yield load_demo_directory(sim.get("truth"))


@pytest.fixture
def assistant(client, msal_login, people):
    """Ari Assistant, signed in: Bea Boss lets her make and receive calls."""
    assert msal_login(client, "assistant@contoso.test").status_code == 302
    return client


def exchanges(sim) -> int:
    return sum(sim.get("stats")["routes"].get(EXCHANGE, {}).values())


def ask_token(client):
    resp = client.post(reverse("calls:phone_token"))
    return resp.status_code, resp.json()


def start_consent(client) -> str:
    """Press "Allow calling from the browser": the page that moves on to Microsoft."""
    page = client.post(reverse("calls:phone_consent"), **LOOPBACK)
    assert page.status_code == 200
    found = re.search(r'id="authority-continue" href="([^"]+)"', page.content.decode())
    assert found, "the page does not move on to Microsoft"
    return html.unescape(found.group(1))


def consent(client, graphsim):
    back = callback_location(graphsim, start_consent(client))
    return follow_to_callback(client, back)


def audit_rows(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def no_token_in_the_audit_log(token: str) -> bool:
    return all(token not in json.dumps(row.detail) for row in AuditEvent.objects.all())


# --- the page ---------------------------------------------------------------------------------
def test_the_page_offers_whom_the_delegate_calls_for_under_the_calling_sdks_policy(
    assistant, people
):
    resp = assistant.get(reverse("calls:phone"))
    assert resp.status_code == 200
    text = resp.content.decode()
    assert f'<option value="{people["boss"].object_id}">Bea Boss</option>' in text
    assert "Calls for Bea Boss also ring here" in text
    nav = text[text.index("<nav") : text.index("</nav>")]
    assert f'href="{reverse("calls:phone")}"' in nav and ">Phone</a>" in nav  # the navigation link
    assert "acs-calling.min.js" in text
    policy = resp["Content-Security-Policy"]
    assert "wss://*.teams.microsoft.com" in policy and "blob:" in policy
    assert "script-src 'self';" in policy  # the SDK is ours, served from our origin


def test_a_person_nobody_lets_make_calls_is_told_and_has_no_phone_link(client, msal_login, people):
    msal_login(client, "nobody@contoso.test")
    resp = client.get(reverse("calls:phone"))
    assert resp.status_code == 403
    assert "Nobody lets you make calls for them" in resp.content.decode()
    assert "acs-calling.min.js" not in resp.content.decode()
    assert reverse("calls:phone") not in client.get(reverse("calls:list")).content.decode()


def test_the_phone_link_is_decided_at_sign_in_and_read_again_after_ten_minutes(
    client, msal_login, people
):
    msal_login(client, "deputy@contoso.test")  # Bea Boss lets Dev receive her calls only
    link = f'href="{reverse("calls:phone")}">Phone</a>'
    assert link not in client.get(reverse("calls:list")).content.decode()
    Delegation.objects.filter(delegate=people["deputy"]).update(make_calls=True)  # a sync
    with CaptureQueriesContext(connection) as queries:
        assert link not in client.get(reverse("calls:list")).content.decode()
    assert not any("delegation_delegation" in q["sql"] for q in queries.captured_queries)
    session = client.session
    session[OFFER_SESSION_KEY] = [False, 0]  # ten minutes later
    session.save()
    assert link in client.get(reverse("calls:list")).content.decode()


# --- consent and the token ----------------------------------------------------------------
def test_without_consent_the_token_view_offers_it_and_issues_nothing(assistant, sim):
    before = exchanges(sim)
    status, body = ask_token(assistant)
    assert status == 403
    assert body == {
        "error": "Allow the portal to make calls for you from the browser first: Microsoft "
        "asks you once.",
        "consent_url": reverse("calls:phone_consent"),
    }
    assert exchanges(sim) == before
    assert [row.outcome for row in audit_rows("phone.token")] == ["denied"]


def test_after_consent_the_token_view_answers_an_acs_token_exchanged_by_the_real_client(
    assistant, graphsim, sim, people
):
    authorize_url = start_consent(assistant)
    asked = dict(parse_qsl(urlsplit(authorize_url).query))
    assert TEAMS_CALLING_SCOPE in asked["scope"].split()
    assert asked["login_hint"] == "assistant@contoso.test"
    back = follow_to_callback(assistant, callback_location(graphsim, authorize_url))
    assert back.status_code == 302 and back["Location"] == reverse("calls:phone")

    status, body = ask_token(assistant)
    assert status == 200, body
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["skypeid"] == f"orgid:{people['assistant'].object_id}"
    expires_on = datetime.fromisoformat(body["expires_on"])
    assert expires_on == datetime.fromtimestamp(claims["exp"], UTC) > datetime.now(UTC)
    assert body["delegators"] == [people["boss"].object_id] and body["note"] == ""
    assert exchanges(sim) == 1
    assert [r.outcome for r in audit_rows("consent")] == ["success"]
    issued = audit_rows("phone.token")[-1]
    assert (issued.outcome, issued.actor.upn) == ("success", "assistant@contoso.test")
    assert issued.detail["expires_on"] == body["expires_on"]
    assert no_token_in_the_audit_log(body["token"])


def test_the_token_view_needs_the_pages_csrf_token(msal_login, people):
    client = Client(enforce_csrf_checks=True)
    msal_login(client, "assistant@contoso.test")
    resp = client.post(reverse("calls:phone_token"))
    assert resp.status_code == 403 and not audit_rows("phone.token")


def test_a_person_who_declines_consent_is_told_and_gets_no_token(assistant, graphsim, sim):
    authorize_url = start_consent(assistant)
    # Cancel on Microsoft's page: it answers access_denied to our callback.
    with requests.Session() as http:
        http.trust_env = False
        declined = http.post(
            authorize_url, data={"cancel": "1"}, verify=graphsim["ca"], allow_redirects=False
        )
    back = follow_to_callback(assistant, declined.headers["Location"])
    assert back["Location"] == reverse("calls:phone")
    page = assistant.get(reverse("calls:phone")).content.decode()
    assert "You did not allow it, so nothing was kept." in page
    failure = audit_rows("consent")[-1]
    assert (failure.outcome, failure.detail["reason"]) == ("failure", "denied")
    status, body = ask_token(assistant)
    assert status == 403 and body["consent_url"] and exchanges(sim) == 0


def test_consent_answered_as_another_account_is_refused_and_kept_nowhere(assistant, graphsim, sim):
    authorize_url = start_consent(assistant).replace(
        "assistant%40contoso.test", "boss%40contoso.test"
    )
    back = follow_to_callback(assistant, callback_location(graphsim, authorize_url))
    assert back["Location"] == reverse("calls:phone")
    assert audit_rows("consent")[-1].detail["reason"] == "claims"
    assert "another account" in assistant.get(reverse("calls:phone")).content.decode()
    assert ask_token(assistant)[0] == 403 and exchanges(sim) == 0


# --- refusals: no token issued ---------------------------------------------------------------
def test_a_delegate_without_make_calls_gets_no_token(client, msal_login, people, sim):
    msal_login(client, "deputy@contoso.test")  # Bea Boss lets Dev receive her calls only
    assert client.get(reverse("calls:phone")).status_code == 403
    status, body = ask_token(client)
    assert status == 403 and body["error"].startswith("Nobody lets you make calls for them")
    assert "consent_url" not in body
    assert client.post(reverse("calls:phone_consent")).status_code == 403
    assert exchanges(sim) == 0
    assert audit_rows("phone.token")[-1].outcome == "denied"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"remove": [BOSS_TO_ARI]}, "That person has not made you a delegate."),
        (
            {"set": [{**BOSS_TO_ARI, "allowedActions": {"makeCalls": False}}]},
            "That person does not allow you to make calls on their behalf.",
        ),
    ],
    ids=["grant-removed", "make-calls-withdrawn"],
)
def test_a_delegator_who_revoked_since_the_last_sync_gets_no_token(
    assistant, graphsim, sim, change, words
):
    consent(assistant, graphsim)
    sim.post("tenant", {"delegations": change})  # in Teams; the portal's copy still has it
    status, body = ask_token(assistant)
    assert (status, body) == (403, {"error": words})
    assert exchanges(sim) == 0
    refused = audit_rows("phone.token")[-1]
    assert (refused.outcome, refused.detail["reason"]) == ("denied", words)


def test_with_two_delegators_the_token_names_only_the_one_graph_still_confirms(
    assistant, graphsim, sim, people
):
    mona_to_ari = {"delegator": "manager@contoso.test", "delegate": "assistant@contoso.test"}
    sim.post(
        "tenant", {"delegations": {"set": [{**mona_to_ari, "allowedActions": {"makeCalls": True}}]}}
    )
    grant = Delegation.objects.get(delegator=people["boss"], delegate=people["assistant"])
    Delegation.objects.create(
        delegator=people["manager"],
        delegate=people["assistant"],
        make_calls=True,
        first_seen=grant.first_seen,
        last_changed=grant.last_changed,
    )
    consent(assistant, graphsim)
    sim.post("tenant", {"delegations": {"remove": [BOSS_TO_ARI]}})
    status, body = ask_token(assistant)
    assert status == 200 and body["delegators"] == [people["manager"].object_id]


def test_when_graph_cannot_confirm_the_cached_grant_is_used_and_the_page_told(
    assistant, graphsim, sim
):
    consent(assistant, graphsim)
    failure = {"status": 503, "path_contains": "callSettings/delegators"}
    sim.post("config", {"fail_next": [failure, failure]})
    status, body = ask_token(assistant)
    assert status == 200 and "Microsoft could not confirm the delegation" in body["note"]


def test_when_the_phone_is_off_the_page_says_so_and_no_token_is_issued(
    assistant, graph_settings, sim
):
    graph_settings.ACS_CONNECTION_STRING = ""
    page = assistant.get(reverse("calls:phone"))
    assert page.status_code == 503
    assert "The browser phone is off on this portal" in page.content.decode()
    assert "acs-calling.min.js" not in page.content.decode()
    status, body = ask_token(assistant)
    assert status == 503 and "ACS_CONNECTION_STRING" in body["error"]
    assert assistant.post(reverse("calls:phone_consent")).status_code == 503
    assert exchanges(sim) == 0 and audit_rows("phone.token")[-1].outcome == "failure"


def test_a_wrong_acs_key_is_said_for_the_admin_and_audited(
    assistant, graphsim, graph_settings, sim
):
    consent(assistant, graphsim)
    wrong = "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA=="
    graph_settings.ACS_CONNECTION_STRING = f"endpoint={graphsim['acs_endpoint']}/;accesskey={wrong}"
    status, body = ask_token(assistant)
    assert status == 502 and "ACS_CONNECTION_STRING" in body["error"]
    failed = audit_rows("phone.token")[-1]
    assert (failed.outcome, failed.detail["error"]) == ("failure", "Denied")


# --- what the page reports ---------------------------------------------------------------
def report(client, **fields):
    return client.post(reverse("calls:phone_report"), fields)


def test_each_call_the_page_reports_is_audited(assistant, people):
    boss = people["boss"].object_id
    started = report(
        assistant, event="started", direction="outgoing", on_behalf_of=boss, target=CALLEE
    )
    assert started.status_code == 204
    failed = report(
        assistant,
        event="failed",
        direction="outgoing",
        on_behalf_of=boss,
        target="+44 20 7946 0000",
        code="405",
        sub_code="46451",
    )
    assert failed.status_code == 204
    taken = report(assistant, event="ended", direction="incoming")
    assert taken.status_code == 204
    rows = [
        (r.action, r.outcome, r.target, r.detail.get("on_behalf_of"))
        for r in AuditEvent.objects.filter(action__startswith="phone.call.").order_by("id")
    ]
    assert rows == [
        ("phone.call.started", "success", CALLEE, boss),
        ("phone.call.failed", "failure", "+442079460000", boss),
        ("phone.call.ended", "success", "incoming", ""),
    ]
    assert AuditEvent.objects.get(action="phone.call.failed").detail["sub_code"] == 46451


@pytest.mark.parametrize(
    "fields",
    [
        {"event": "started", "direction": "outgoing", "target": CALLEE},  # for nobody
        {"event": "started", "direction": "outgoing", "on_behalf_of": CALLEE, "target": CALLEE},
        {"event": "started", "direction": "outgoing", "on_behalf_of": "boss", "target": "x" * 70},
        {"event": "deleted", "direction": "outgoing", "on_behalf_of": "boss", "target": CALLEE},
        {"event": "failed", "direction": "outgoing", "on_behalf_of": "boss", "target": "bob"},
        {"event": "failed", "direction": "incoming", "code": "-1"},
    ],
    ids=["no-delegator", "not-a-delegator", "too-long", "unknown-event", "bad-callee", "bad-code"],
)
def test_a_report_out_of_bounds_is_refused_and_not_audited(assistant, people, fields):
    if fields.get("on_behalf_of") == "boss":
        fields = {**fields, "on_behalf_of": people["boss"].object_id}
    resp = report(assistant, **fields)
    assert resp.status_code == 400 and resp.json()["error"]
    assert not AuditEvent.objects.filter(action__startswith="phone.call.").exists()
