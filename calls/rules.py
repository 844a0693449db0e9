"""Who may do what with a call: plain functions of plain facts, decided on the server every time.

Views and services gather the facts (capabilities, the cached grant, the live re-check) and ask
these functions; the reasons they return are shown to the person as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from calls import states


@dataclass(frozen=True)
class Grant:
    """What a delegator allows one delegate (from the cache, or from Graph live)."""

    is_active: bool
    make_calls: bool = False
    receive_calls: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def refuse(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class LiveCheck:
    """The re-check with the person's own token: made (grant or None = no grant), or not made."""

    made: bool
    grant: Grant | None = None
    why_not_made: str = ""


def may_start_call(
    *, can_place_any: bool, on_behalf_of: str | None, grant: Grant | None, live: LiveCheck | None
) -> Decision:
    """A call on someone's behalf needs their active grant with makeCalls; without, helpdesk."""
    if not on_behalf_of:
        if can_place_any:
            return ALLOW
        return refuse(
            "You may only start calls on behalf of someone who lets you make calls for them."
        )
    if live is not None and live.made:
        grant = live.grant  # Graph's answer overrides the portal's copy
    if grant is None:
        return refuse("That person has not made you a delegate.")
    if not grant.is_active:
        return refuse("That person's delegation to you is not active.")
    if not grant.make_calls:
        return refuse("That person does not allow you to make calls on their behalf.")
    return ALLOW


def may_act_on_call(*, is_starter: bool, can_act_on_any: bool, call_state: str) -> Decision:
    """Only the person who started a call, or helpdesk, may act on it; not once it has ended."""
    if not (is_starter or can_act_on_any):
        return refuse("This call is not yours to act on.")
    if call_state in states.FINAL:
        return refuse("This call has already ended.")
    return ALLOW


def may_end(*, is_starter: bool, can_act_on_any: bool, call_state: str) -> Decision:
    decision = may_act_on_call(
        is_starter=is_starter, can_act_on_any=can_act_on_any, call_state=call_state
    )
    if decision and call_state == states.TERMINATING:
        return refuse("This call is already ending.")
    return decision


def may_transfer(
    *,
    is_starter: bool,
    can_act_on_any: bool,
    call_state: str,
    on_behalf_of: str | None,
    actor_grant: Grant | None,
    target: str,
    target_grant: Grant | None,
) -> Decision:
    """A call made on a delegator's behalf goes only to them or to a delegate who may receive
    their calls (or helpdesk acting on any call may not widen that: the callee sees the
    delegator's line). A delegate acts on it only while their own grant still lets them make
    calls for that delegator: a grant revoked mid-call stops them (helpdesk needs no grant)."""
    decision = may_act_on_call(
        is_starter=is_starter, can_act_on_any=can_act_on_any, call_state=call_state
    )
    if not decision:
        return decision
    if call_state not in states.CONNECTED:
        return refuse("Only a connected call can be transferred.")
    if on_behalf_of and not can_act_on_any:
        if actor_grant is None or not actor_grant.is_active:
            return refuse(
                "Your delegation from the person this call is made for is no longer active."
            )
        if not actor_grant.make_calls:
            return refuse(
                "Your delegation no longer lets you act on calls for the person this call is "
                "made for."
            )
    if not on_behalf_of or target == on_behalf_of:
        return ALLOW
    if target_grant is None:
        return refuse("That person is not a delegate of the person this call is made for.")
    if not target_grant.is_active:
        return refuse("That person's delegation is not active.")
    if not target_grant.receive_calls:
        return refuse("That person may not receive calls for the person this call is made for.")
    return ALLOW


def may_redirect(*, can_redirect: bool, direction: str, call_state: str) -> Decision:
    """Helpdesk redirects incoming calls that nobody has answered yet."""
    if not can_redirect:
        return refuse("Only helpdesk staff may redirect incoming calls.")
    if direction != "incoming":
        return refuse("Only incoming calls can be redirected.")
    if call_state != states.INCOMING:
        return refuse("This call is no longer ringing: it can no longer be redirected.")
    return ALLOW


def may_ring_first(*, reachable_in_teams: bool) -> Decision:
    """A call rings the acting person's own Teams first: they must be someone Teams can ring."""
    if not reachable_in_teams:
        return refuse(
            "The portal cannot ring you in Teams: your account is not in its copy of the "
            "directory, or it is disabled. Ask an admin to run a sync."
        )
    return ALLOW


def may_start_phone_call(*, app_instance_id: str) -> Decision:
    if not app_instance_id:
        return refuse(
            "Calls to phone numbers are not set up: the portal has no resource account with a "
            "phone number (CALLS_APP_INSTANCE_ID). Call a person from the directory instead."
        )
    return ALLOW


def live_check_note(live: LiveCheck | None) -> str:
    """What to tell the person when Microsoft could not confirm the delegation just now."""
    if live is None or live.made:
        return ""
    return (
        "Microsoft could not confirm the delegation just now"
        + (f" ({live.why_not_made})" if live.why_not_made else "")
        + "; the portal's copy of delegations was used."
    )
