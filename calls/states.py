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
    ("200", "5001"): "ended",
    ("0", "7015"): "transfer completed",
    ("408", "10057"): "no answer",
    ("480", "10076"): "unreachable",
    ("500", "7000"): "transfer failed",
    ("408", "8537"): "ended: not kept alive",
    ("404", ""): "ended: Microsoft no longer knows this call",
}


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
        return "ended" if state == TERMINATED else ""
    words = _RESULTS.get((code, subcode))
    if words:
        return words
    return (
        f"ended (code {code or '?'}/{subcode or '?'})"
        if state == TERMINATED
        else (f"code {code or '?'}/{subcode or '?'}")
    )
