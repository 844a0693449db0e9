"""What a call page says about a call: one state line in words, each leg with its state and how
long it rang and talked, and a timeline of what changed. Plain functions of the call's rows.

People are named, not "you": helpdesk reads other people's calls too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from calls import states

_LEG_WORDS = dict(states.LEG_CHOICES)


@dataclass(frozen=True)
class Leg:
    who: str
    state: str
    detail: str = ""
    durations: str = ""


@dataclass(frozen=True)
class Summary:
    status: str  # a word or two: "Ringing Hugo Helpdesk", "Talking", "Ended"
    detail: str = ""  # the rest of the one line
    durations: str = ""
    legs: list[Leg] = field(default_factory=list)

    @property
    def line(self) -> str:
        return f"{self.status} · {self.detail}" if self.detail else self.status


@dataclass(frozen=True)
class Entry:
    at: datetime
    words: str


def summarise(call, now: datetime | None = None) -> Summary:
    now = now or timezone.now()
    if call.state == states.FAILED:
        return Summary("Not placed", call.error)
    if call.state == states.REQUESTED:
        return Summary("Starting", "asking Microsoft to place the call")
    if call.direction == call.Direction.INCOMING:
        return _incoming(call, now)
    if call.rings_me_first:
        return _two_legs(call, now)
    return _direct(call, now)


# --- durations ------------------------------------------------------------------------------
def duration(start: datetime | None, end: datetime | None) -> str:
    """`1 min 5 s`; empty when the start is unknown."""
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def seconds_left(deadline: datetime | None, now: datetime | None = None) -> int:
    """Whole seconds until `deadline` (0 once it has passed or when there is none)."""
    if deadline is None:
        return 0
    return max(0, int((deadline - (now or timezone.now())).total_seconds()))


def _clock(at: datetime) -> str:
    return timezone.localtime(at).strftime("%H:%M:%S")


def _joined(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _rang_and_talked(rang_from, answered, ended, now, talking="talked") -> str:
    until = answered or ended or now
    rang = duration(rang_from, until)
    talked = duration(answered, ended or now) if answered else ""
    return _joined(rang and f"rang {rang}", talked and f"{talking} {talked}")


# --- the three kinds of call ----------------------------------------------------------------
def _direct(call, now) -> Summary:
    callee = call.target_label
    started = call.sent_at or call.created_at
    durations = _rang_and_talked(started, call.answered_at, call.ended_at, now)
    if call.state == states.ESTABLISHING:
        return Summary(f"Ringing {callee}", durations=durations)
    if call.state == states.ESTABLISHED and call.result_code:
        failure = states.transfer_failure_in_words(
            call.result_code, call.result_subcode, call.result_message
        )
        return Summary("Connected", f"the transfer failed: {failure}", durations)
    if call.state == states.TERMINATED:
        return Summary("Ended", call.result_label, durations)
    return Summary(call.state_label, "", durations)


def _incoming(call, now) -> Summary:
    caller = call.caller_display or "an unknown caller"
    dialled = f" {call.called_display}" if call.called_display else " the portal's line"
    if call.state == states.INCOMING:
        return Summary("Ringing", f"{caller} is calling{dialled}")
    durations = duration(call.created_at, call.ended_at or now)
    if call.state == states.TERMINATED:
        return Summary("Ended", call.result_label, durations and f"lasted {durations}")
    return Summary(call.state_label, "", durations and f"for {durations}")


def _two_legs(call, now) -> Summary:
    first, callee, leg = call.first_leg_display or "the caller", call.target_label, call.callee_leg
    legs = [_first_leg(call, now), _callee_leg(call, now)]
    over = call.state in states.FINAL
    if leg == states.LEG_WAITING and not over:
        return Summary(f"Ringing {first}", f"{callee} is dialled once they answer", legs=legs)
    if leg == states.LEG_NOT_DIALLED:
        words = call.result_label
        why = f": {first}'s phone: {words}" if words else ""
        return Summary("Ended", f"{callee} was never dialled{why}", legs=legs)
    if leg == states.LEG_DIALLING:
        return Summary("Putting through", f"{first} answered; dialling {callee}", legs=legs)
    if leg == states.LEG_RINGING:
        return Summary(f"Ringing {callee}", f"{first} waits on the line", legs=legs)
    if leg == states.LEG_TALKING and not over:
        return Summary("Talking", f"{first} and {callee}", legs=legs)
    if leg == states.LEG_TALKING:
        at = _clock(call.callee_answered_at or call.ended_at or now)
        detail = (
            f"{first} was put through to {callee} at {at}; they talk on in Teams, where the "
            "portal no longer follows the call"
        )
        return Summary("Ended", detail, legs=legs)
    reason = call.callee_leg_reason or "Microsoft gave no reason"
    if not over:
        detail = f"{callee}: {reason}; {first} is still on the line with the portal: end the call"
        return Summary("Not put through", detail, legs=legs)
    return Summary("Ended", f"not put through to {callee}: {reason}", legs=legs)


def _first_leg(call, now) -> Leg:
    who = call.first_leg_display or "the caller"
    start = call.sent_at or call.created_at
    handed_over = call.callee_leg == states.LEG_TALKING
    until = call.ended_at or now
    if handed_over and call.callee_answered_at:
        until = min(until, call.callee_answered_at)
    durations = _rang_and_talked(start, call.answered_at, until, now, "on the line")
    if call.state in states.FINAL:
        if call.answered_at is None:
            return Leg(who, "Not answered", call.result_label, durations)
        return Leg(who, "Ended", "handed over to Teams" if handed_over else "", durations)
    if call.answered_at is None:
        return Leg(who, "Ringing", "", durations)
    return Leg(who, "Answered", "on the line with the portal", durations)


def _callee_leg(call, now) -> Leg:
    who = call.target_label
    leg = call.callee_leg
    if call.callee_rang_at is None:
        return Leg(who, _LEG_WORDS.get(leg, leg), call.callee_leg_reason)
    end = call.callee_answered_at or call.callee_ended_at or call.ended_at or now
    rang = duration(call.callee_rang_at, end)
    talked = ""
    if call.callee_answered_at and call.state in states.FINAL:
        talked = f"talking since {_clock(call.callee_answered_at)}"
    elif call.callee_answered_at:
        talked = f"talking {duration(call.callee_answered_at, now)}"
    durations = _joined(rang and f"rang {rang}", talked)
    return Leg(who, _LEG_WORDS.get(leg, leg), call.callee_leg_reason, durations)


# --- the timeline ---------------------------------------------------------------------------
def event_words(call, event) -> str:
    """What one applied notification meant for this call."""
    code, subcode = event.result_code, event.result_subcode
    result = event.result_label
    if not call.rings_me_first:
        return _joined(event.state_label, result)
    first, callee = call.first_leg_display or "the caller", call.target_label
    if event.state == states.ESTABLISHING:
        return f"Ringing {first}"
    if event.state == states.ESTABLISHED and (code or subcode):
        failure = states.transfer_failure_in_words(code, subcode, event.result_message)
        return f"Not put through to {callee}: {failure}; {first} is back on the line"
    if event.state == states.ESTABLISHED:
        return f"{first} answered"
    if event.state == states.TRANSFERRING:
        return f"Ringing {callee}"
    if event.state == states.TRANSFER_ACCEPTED:
        return f"{callee} answered: talking"
    if event.state == states.TERMINATED and (code, subcode) == states.TRANSFER_COMPLETED:
        return f"Put through to {callee}: the portal left the call"
    return _joined(event.state_label, result)


def action_words(action) -> str:
    who = action.requested_by or "someone"
    outcome = action.get_outcome_display()
    if action.kind == action.Kind.HANDOVER:
        text = f"Putting the call through to {action.targets_label}: {outcome}"
    else:
        to = f" to {action.targets_label}" if action.targets else ""
        text = f"{action.get_kind_display()}{to}, asked by {who}: {outcome}"
    return f"{text} ({action.message})" if action.message else text


def timeline(call, events, actions) -> list[Entry]:
    """The notifications that changed the call and the actions asked, in order. Graph's answer
    to placing the call already says it rings (`establishing`): that is the ringing entry, and
    an `establishing` notification arriving before or after it adds nothing."""
    placed = bool(call.sent_at and call.graph_id)
    entries = []
    if placed:
        ringing = call.first_leg_display if call.rings_me_first else call.target_label
        entries.append(Entry(call.sent_at, f"Ringing {ringing or 'the callee'}"))
    entries += [
        Entry(e.received_at, event_words(call, e))
        for e in events
        if e.applied and not (placed and e.state == states.ESTABLISHING)
    ]
    entries += [Entry(a.created_at, action_words(a)) for a in actions]
    return sorted(entries, key=lambda entry: entry.at)
