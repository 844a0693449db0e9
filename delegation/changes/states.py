"""The life of a change request, as one table of allowed moves.

    requested ◄─► awaiting approval ──► (rejected)
        │                │     (approved: back to requested, queued)
        ▼                ▼
     applying ◄──────────┘ ──► applied ──► verified ──► ending ──► ended
        │   ╲                     │          ▲  │
        │    ╲► awaiting PowerShell ─────────┘  ▼
        ▼                                     drifted
      failed

A request is *pending* while it may still change Teams: it counts towards the 25/25 limits and
blocks a second request for the same pair. `verified` and `drifted` are settled (the grant stands,
Teams agreed or later disagreed); the final states never move again.
"""

from __future__ import annotations

REQUESTED = "requested"
AWAITING_APPROVAL = "awaiting_approval"
APPLYING = "applying"
APPLIED = "applied"
VERIFIED = "verified"
FAILED = "failed"
AWAITING_POWERSHELL = "awaiting_powershell"
DRIFTED = "drifted"
ENDING = "ending"
ENDED = "ended"
CANCELLED = "cancelled"
REJECTED = "rejected"

_WORDS = {
    REQUESTED: "Requested",
    AWAITING_APPROVAL: "Awaiting approval",
    APPLYING: "Applying",
    APPLIED: "Applied, not yet verified",
    VERIFIED: "Verified in Teams",
    FAILED: "Failed",
    AWAITING_POWERSHELL: "Awaiting PowerShell",
    DRIFTED: "Drifted: Teams now shows something else",
    ENDING: "Ending",
    ENDED: "Ended",
    CANCELLED: "Cancelled",
    REJECTED: "Rejected",
}
CHOICES = list(_WORDS.items())

_MOVES: dict[str, frozenset[str]] = {
    REQUESTED: frozenset({AWAITING_APPROVAL, APPLYING, AWAITING_POWERSHELL, FAILED, CANCELLED}),
    # Approved: back to requested, so one claim (requested -> applying) starts every apply.
    AWAITING_APPROVAL: frozenset(
        {REQUESTED, APPLYING, AWAITING_POWERSHELL, FAILED, REJECTED, CANCELLED}
    ),
    # APPLYING -> REQUESTED: the write's outcome was unknown and the re-read showed nothing done,
    # so it may be sent again; never re-sent without that re-read.
    APPLYING: frozenset({APPLIED, VERIFIED, AWAITING_POWERSHELL, FAILED, REQUESTED, DRIFTED}),
    APPLIED: frozenset({VERIFIED, DRIFTED, FAILED}),
    # The admin ran the script; a re-read (or the next sync) shows what Teams holds.
    AWAITING_POWERSHELL: frozenset({VERIFIED, DRIFTED, FAILED, CANCELLED}),
    VERIFIED: frozenset({DRIFTED, ENDING}),
    DRIFTED: frozenset({VERIFIED, ENDING}),
    # An ending that fails leaves the grant standing: back to verified, the job tries again.
    ENDING: frozenset({ENDED, VERIFIED}),
    FAILED: frozenset(),
    ENDED: frozenset(),
    CANCELLED: frozenset(),
    REJECTED: frozenset(),
}

PENDING = frozenset({REQUESTED, AWAITING_APPROVAL, APPLYING, APPLIED, AWAITING_POWERSHELL})
SETTLED = frozenset({VERIFIED, DRIFTED, ENDING})
FINAL = frozenset(state for state, targets in _MOVES.items() if not targets)


class IllegalMove(Exception):
    """A change request was asked to move where the table does not allow."""

    def __init__(self, current: str, target: str):
        super().__init__(f"a change request cannot go from {label(current)} to {label(target)}")
        self.current = current
        self.target = target


def label(state: str) -> str:
    return _WORDS.get(state, state or "unknown")


def is_known(state: str) -> bool:
    return state in _MOVES


def can_move(current: str, target: str) -> bool:
    return target in _MOVES.get(current, frozenset())


def move(current: str, target: str) -> str:
    """The new state, or IllegalMove; callers save it with a conditional UPDATE on `current`
    so two workers never both move one request."""
    if not can_move(current, target):
        raise IllegalMove(current, target)
    return target
