"""The browser phone's server side: the calling token (rules, a live re-check of each
delegation, the person's consent, the exchange for an ACS token, an audit row for every answer),
the consent flow it needs, and the calls the page reports.

The ACS token goes to the page and is never stored or logged: it ends with the Entra token it
was exchanged from, and the page asks for a new one then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from calls import rules
from calls.phone import selectors
from calls.services.start import live_grant_check
from portal import audit, signin, token_store
from portal.graph import acs
from portal.graph.errors import GraphError, NotConfigured, ReconnectNeeded, TokenError

NOBODY = (
    "Nobody lets you make calls for them in Teams: the phone is for delegates whose delegator "
    "allows them to make calls."
)
PHONE_OFF = (
    "The browser phone is off on this portal: no Azure Communication Services resource is "
    "connected (ACS_CONNECTION_STRING). Tell an administrator."
)
CONSENT_NEEDED = (
    "Allow the portal to make calls for you from the browser first: Microsoft asks you once."
)
SIGN_IN_UNAVAILABLE = "Microsoft's sign-in service could not be reached. Try again in a minute."
NONE_CONFIRMED = "None of the people you call for lets you make calls for them any more."


@dataclass
class PhoneRefused(Exception):
    """No token: `words` for the person; `consent` when allowing the scope would help."""

    words: str
    status: int = 403
    consent: bool = False
    detail: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.words

    def answer(self) -> dict:
        body = {"error": self.words}
        if self.consent:
            body["consent_url"] = reverse("calls:phone_consent")
        return body


def issue_token(request) -> dict:
    """The person's ACS token, or PhoneRefused; either way audited (never the token)."""
    user = request.user
    target = user.upn or user.object_id
    try:
        answer = _token_for(request)
    except PhoneRefused as refused:
        outcome = "denied" if refused.status == 403 else "failure"
        detail = {"reason": refused.words, **refused.detail}
        audit.record("phone.token", outcome, request=request, target=target, **detail)
        raise
    detail = {"expires_on": answer["expires_on"], "delegators": answer["delegators"]}
    audit.record("phone.token", "success", request=request, target=target, **detail)
    return answer


def refusal(delegators) -> PhoneRefused | None:
    """Why the phone is not offered: nobody to call for (from the cache), or it is off."""
    if not delegators:
        return PhoneRefused(NOBODY)
    if not acs.configured():
        return PhoneRefused(PHONE_OFF, status=503)
    return None


def _token_for(request) -> dict:
    user = request.user
    delegators = selectors.phone_delegators(user)
    refused = refusal(delegators)
    if refused:
        raise refused
    confirmed, note = confirm_live(user, delegators)
    if not signin.has_consented(request, acs.TEAMS_CALLING_SCOPE):
        raise PhoneRefused(CONSENT_NEEDED, consent=True)
    token = _exchange(request)
    return {
        "token": token.token,
        "expires_on": token.expires_on.isoformat(),
        "delegators": [person.object_id for person in confirmed],
        "note": note,
    }


def confirm_live(user, delegators) -> tuple[list, str]:
    """The delegators who still let the person make calls, asked of Graph with their own token
    as the call form does (the cache's word where Graph does not answer, with a note)."""
    confirmed, refused, note = [], {}, ""
    cached = rules.Grant(is_active=True, make_calls=True)  # what phone_delegators selected
    for person in delegators:
        live = live_grant_check(user, person.object_id)
        decision = rules.may_start_call(
            can_place_any=False, on_behalf_of=person.object_id, grant=cached, live=live
        )
        if decision:
            confirmed.append(person)
            note = note or rules.live_check_note(live)
        else:
            refused[person.object_id] = decision.reason
    if not confirmed:
        words = next(iter(refused.values())) if len(refused) == 1 else NONE_CONFIRMED
        raise PhoneRefused(words, detail={"refused": refused})
    return confirmed, note


def _exchange(request) -> acs.AcsToken:
    user = request.user
    try:
        provider = token_store.user_token_provider(user, [acs.TEAMS_CALLING_SCOPE])
        if provider is None:
            raise ReconnectNeeded("no token cache")
        return acs.exchange_teams_token(provider(), settings.MS_CLIENT_ID, user.object_id)
    except ReconnectNeeded as exc:
        # Microsoft wants the person again (consent withdrawn, or a new sign-in): ask anew.
        signin.forget_consent(request, acs.TEAMS_CALLING_SCOPE)
        raise PhoneRefused(CONSENT_NEEDED, consent=True, detail={"error": str(exc)}) from exc
    except NotConfigured as exc:
        raise PhoneRefused(PHONE_OFF, status=503) from exc
    except TokenError as exc:
        raise PhoneRefused(SIGN_IN_UNAVAILABLE, status=503, detail={"error": str(exc)}) from exc
    except GraphError as exc:
        status = 502 if exc.permanent else 503
        consent = exc.code == "InvalidAccessToken"
        detail = {"error": exc.code or str(exc), "request_id": exc.request_id}
        raise PhoneRefused(exc.message, status=status, consent=consent, detail=detail) from exc


def begin_consent(request) -> str:
    """The authority URL that asks the person to allow calling from the browser; back to the
    phone page afterwards. Raises PhoneRefused where the phone is not for them or is off."""
    refused = refusal(selectors.phone_delegators(request.user))
    if refused:
        raise refused
    try:
        return signin.begin_consent(request, [acs.TEAMS_CALLING_SCOPE], reverse("calls:phone"))
    except TokenError as exc:
        raise PhoneRefused(SIGN_IN_UNAVAILABLE, status=503) from exc


def record_call(request, report: dict) -> None:
    """One audit row for what the page says a call did (validated by CallReportForm)."""
    audit.record(
        f"phone.call.{report['event']}",
        "failure" if report["event"] == "failed" else "success",
        request=request,
        target=report["target"] or report["direction"],
        direction=report["direction"],
        on_behalf_of=report["on_behalf_of"],
        code=report["code"],
        sub_code=report["sub_code"],
    )
