"""What a call service answers: its result, its refusal, and Graph's errors in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from calls.models import Call, CallAction
from portal.graph.errors import TokenError


class CallRefused(Exception):
    """The portal said no (rules, bad or stale input): nothing was sent to Graph."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ActionResult:
    call: Call
    created: bool  # False: the same form was submitted before; this is what it did
    action: CallAction | None = None
    error: str = ""  # Graph's refusal in plain words
    note: str = ""  # e.g. the live re-check could not be made


def graph_error_in_words(exc: Exception, kind: str = "") -> str:
    """Graph's refusal in words; `kind` names the action refused (transfer, redirect, end,
    handover), empty for placing a call."""
    if kind in ("transfer", "handover") and getattr(exc, "status", 0) == 403:
        # A transfer refused with 403: the target does not take transfers (policy), or the
        # app lacks a permission; Graph does not say which (GRAPH_CONTRACT §6).
        return (
            "Microsoft refused the transfer: the person may not take transferred calls, or "
            "the portal lacks the permission to transfer. Microsoft does not say which."
        )
    if isinstance(exc, TokenError):
        return (
            "The portal could not get a Microsoft token to act on calls. "
            "Try again later; if it persists, ask an admin to check the app registration."
        )
    status = getattr(exc, "status", 0)
    if status == 0:
        return "Microsoft could not be reached. Try again in a moment."
    if status in (429, 503, 504):
        return "Microsoft is busy right now. Try again in a moment."
    if status == 403:
        # Graph answers 403 both at the limit of 100 concurrent calls and without permission.
        return (
            "Microsoft refused: the portal may have reached its limit of 100 simultaneous "
            "calls, or may lack the permission to place calls. Try again in a few minutes; if "
            "it persists, ask an admin."
        )
    if status == 404:
        return "Microsoft no longer knows this call: it has ended."
    if status == 400:
        return f"Microsoft refused the request: {getattr(exc, 'message', '')[:200]}"
    return f"Microsoft could not do it (HTTP {status}). Try again later."


def request_id_of(exc: Exception) -> str:
    """Graph's request id of a failed call, for support; empty for a token error."""
    return getattr(exc, "request_id", "") or ""
