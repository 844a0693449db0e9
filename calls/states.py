"""The call state machine, as plain functions: which notification may change a call's state.

Graph does not promise order or single delivery (GRAPH_CONTRACT §7): `established` may come
before `establishing`, and the same notification may come twice. Each state has a rank of how
far a call has gone; a notification is applied only if it does not move the call back. So the
final state is the same whatever order the notifications of one call arrive in, and nothing
leaves `terminated`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Local states: saved before Graph is called, and Graph refused to place the call.
REQUESTED = "requested"
FAILED = "failed"

INCOMING = "incoming"
ESTABLISHING = "establishing"
ESTABLISHED = "established"
HOLD = "hold"
TRANSFERRING = "transferring"
TRANSFER_ACCEPTED = "transferAccepted"
REDIRECTING = "redirecting"
TERMINATING = "terminating"
TERMINATED = "terminated"

_LABELS = {
    REQUESTED: "Requested",
    FAILED: "Not placed",
    INCOMING: "Ringing (incoming)",
    ESTABLISHING: "Ringing",
    ESTABLISHED: "Connected",
    HOLD: "On hold",
    TRANSFERRING: "Transferring",
    TRANSFER_ACCEPTED: "Transfer accepted",
    REDIRECTING: "Redirecting",
    TERMINATING: "Ending",
    TERMINATED: "Ended",
}
CHOICES = list(_LABELS.items())
FINAL = frozenset({TERMINATED, FAILED})
# States in which someone is on the line and the call can be transferred or kept alive.
CONNECTED = frozenset({ESTABLISHED, HOLD})

_RANK = {
    REQUESTED: 0,
    INCOMING: 5,
    ESTABLISHING: 10,
    ESTABLISHED: 20,
    HOLD: 20,  # hold and unhold alternate: same rank, the later one wins
    TRANSFERRING: 30,
    REDIRECTING: 30,
    TRANSFER_ACCEPTED: 40,
    # `established` carrying a resultInfo is the call coming back after a failed transfer.
    "established+result": 50,
    TERMINATING: 90,
    TERMINATED: 100,
    FAILED: 100,
}
# After the portal sends a new transfer, the call may go through transferring again.
RANK_BEFORE_ACTION = _RANK[ESTABLISHED]

# (code, subcode) -> words; GRAPH_CONTRACT §6 "notable endings".
_RESULTS = {
    ("200", "5001"): "hung up",
    ("0", "7015"): "transfer completed",
    ("408", "10057"): "no answer",
    ("480", "10076"): "unreachable",
    ("500", "7000"): "transfer failed",
    ("408", "8537"): "not kept alive: Microsoft ended it after 45 minutes without a keepAlive",
    ("404", ""): "Microsoft no longer knows this call",
}
# When only the code is known: the SIP meaning every Teams result code carries.
_CODES = {
    "403": "refused",
    "404": "not found",
    "408": "no answer",
    "480": "unreachable",
    "486": "busy",
    "487": "cancelled",
    "603": "declined",
}
TRANSFER_COMPLETED = ("0", "7015")


def label(state: str) -> str:
    return _LABELS.get(state, state or "unknown")


def is_known(state: str) -> bool:
    return state in _RANK and state not in (REQUESTED, FAILED)


def rank(state: str, has_result: bool = False) -> int:
    if state == ESTABLISHED and has_result:
        return _RANK["established+result"]
    return _RANK.get(state, -1)


@dataclass(frozen=True)
class Snapshot:
    state: str
    state_rank: int
    result_code: str = ""
    result_subcode: str = ""
    result_message: str = ""


def apply(current: Snapshot, state: str, result: tuple[str, str, str] | None) -> Snapshot | None:
    """The call after one notification, or None when it must not change anything."""
    if not is_known(state):
        return None
    if current.state in FINAL:
        return None
    new_rank = rank(state, has_result=bool(result and (result[0] or result[1])))
    if new_rank < current.state_rank:
        return None
    code, subcode, message = result or ("", "", "")
    if not (code or subcode) and state == current.state:
        return None  # a repeat that says nothing new; keep the result we have
    if not (code or subcode):
        code, subcode, message = current.result_code, current.result_subcode, current.result_message
    return Snapshot(state, new_rank, code, subcode, message)


def result_in_words(state: str, code: str, subcode: str) -> str:
    """What a result code means to a person; empty while nothing has been reported."""
    code, subcode = (code or "").strip(), (subcode or "").strip()
    if not code and not subcode:
        return ""
    words = _RESULTS.get((code, subcode)) or _CODES.get(code)
    return words or f"code {code or '?'}/{subcode or '?'}"


# --- the callee's leg of a ring-me-first call -------------------------------------------------
# The portal rings the acting person first (the Graph call); once they answer it transfers that
# call to the callee. The transfer's notifications arrive on the first call and move this leg.
LEG_WAITING = "waiting"  # the acting person has not answered yet: the callee is not dialled
LEG_DIALLING = "dialling"  # the transfer is claimed and being sent
LEG_RINGING = "ringing"  # Microsoft took the transfer: the callee's phone rings
LEG_TALKING = "talking"  # the transfer was accepted or completed
LEG_FAILED = "failed"  # the transfer failed or was refused: the first leg is back on the line
LEG_NOT_DIALLED = "not_dialled"  # the first leg ended before anyone answered it
LEG_CHOICES = [
    (LEG_WAITING, "Waiting for you to answer"),
    (LEG_DIALLING, "Putting you through"),
    (LEG_RINGING, "Ringing"),
    (LEG_TALKING, "Talking"),
    (LEG_FAILED, "Not put through"),
    (LEG_NOT_DIALLED, "Never dialled"),
]
LEG_IN_PROGRESS = frozenset({LEG_DIALLING, LEG_RINGING})


@dataclass(frozen=True)
class LegChange:
    leg: str
    reason: str = ""


def callee_leg_after(leg: str, state: str, result: tuple[str, str, str] | None) -> LegChange | None:
    """The callee's leg after the first leg's call took `state` (a notification the state
    machine applied), or None when the leg does not change."""
    code, subcode, message = result or ("", "", "")
    has_result = bool(code or subcode)
    if leg == LEG_WAITING and state in (TERMINATING, TERMINATED):
        words = result_in_words(state, code, subcode)
        return LegChange(LEG_NOT_DIALLED, f"your phone: {words}" if words else "")
    if leg not in (*LEG_IN_PROGRESS, LEG_TALKING):
        return None
    if state == TRANSFERRING and leg == LEG_DIALLING:
        return LegChange(LEG_RINGING)
    if state == TRANSFER_ACCEPTED and leg in LEG_IN_PROGRESS:
        return LegChange(LEG_TALKING)
    if state == TERMINATED and (code, subcode) == TRANSFER_COMPLETED:
        return None if leg == LEG_TALKING else LegChange(LEG_TALKING)
    if state == ESTABLISHED and has_result:  # the transfer failed: back to the first leg
        return LegChange(LEG_FAILED, transfer_failure_in_words(code, subcode, message))
    if state in (TERMINATING, TERMINATED) and leg in LEG_IN_PROGRESS:
        return LegChange(LEG_FAILED, "the call ended before it was put through")
    return None


def transfer_failure_in_words(code: str, subcode: str, message: str) -> str:
    """Why a transfer failed: the code in words, and Microsoft's own message when the code is
    the generic 500/7000 that does not say (GRAPH_CONTRACT §6)."""
    words = result_in_words(ESTABLISHED, code, subcode)
    if (code, subcode) == ("500", "7000"):
        said = f': Microsoft said "{message[:200]}"' if message else " (Microsoft gave no reason)"
        return f"{words}{said}"
    return words


def action_finished(kind: str, state: str, result) -> tuple[bool, str] | None:
    """Whether the call's newly applied state finishes an action Microsoft took (202): (done,
    why not) for a transfer, put-through, redirect or end; None while it is still under way."""
    code, subcode, message = result or ("", "", "")
    if kind in ("transfer", "handover"):
        if state == TERMINATED and (code, subcode) == TRANSFER_COMPLETED:
            return True, ""
        if state == ESTABLISHED and (code or subcode):
            return False, transfer_failure_in_words(code, subcode, message)
        if state == TERMINATED:
            return False, "the call ended before the transfer completed"
    elif kind == "redirect" and state == TERMINATED:
        if (code, subcode) == ("200", "5001"):
            return True, ""
        return False, result_in_words(state, code, subcode) or "the call ended"
    elif kind == "end" and state == TERMINATED:
        return True, ""
    return None
