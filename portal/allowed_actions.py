"""The five things a delegate may be allowed to do on a delegator's line: the one table.

Every form, template, CSV column, PowerShell line, Graph payload and model field list reads this
table. Teams names each action three ways (Graph's `allowedActions` key, a PowerShell switch of
`New-CsUserCallingDelegate`, and the words its clients show); the portal adds its own field name.
Order matters: it is the bit order of the sync's packed grants (bit 0 = make calls).
"""

from __future__ import annotations

from typing import NamedTuple


class AllowedAction(NamedTuple):
    field: str  # our model field and CSV column
    graph_key: str  # delegationSettings.allowedActions key (Graph beta)
    powershell: str  # New-/Set-CsUserCallingDelegate parameter
    label: str  # what the pages call it
    means: str  # what it lets the delegate do, in words the pages show


ACTIONS: tuple[AllowedAction, ...] = (
    AllowedAction(
        "make_calls",
        "makeCalls",
        "MakeCalls",
        "Make calls",
        "place calls that show the delegator's line as the caller",
    ),
    AllowedAction(
        "receive_calls",
        "receiveCalls",
        "ReceiveCalls",
        "Receive calls",
        "answer calls that ring the delegator's line",
    ),
    AllowedAction(
        "manage_settings",
        "manageCallAndDelegateSettings",
        "ManageSettings",
        "Manage call and delegate settings",
        "change the delegator's call settings and add or remove their delegates",
    ),
    AllowedAction(
        "pick_up_held_calls",
        "pickUpHeldCalls",
        "PickUpHeldCalls",
        "Pick up held calls",
        "resume calls the delegator put on hold",
    ),
    AllowedAction(
        "join_active_calls",
        "joinActiveCalls",
        "JoinActiveCalls",
        "Join active calls",
        "join calls the delegator is on",
    ),
)

FIELDS: tuple[str, ...] = tuple(action.field for action in ACTIONS)
GRAPH_KEYS: tuple[str, ...] = tuple(action.graph_key for action in ACTIONS)
BY_FIELD: dict[str, AllowedAction] = {action.field: action for action in ACTIONS}
BY_GRAPH_KEY: dict[str, AllowedAction] = {action.graph_key: action for action in ACTIONS}

# Teams allows at most this many delegates per delegator and delegators per delegate.
TEAMS_DELEGATION_LIMIT = 25


def bit(field: str) -> int:
    """The action's bit in a packed grant (the sync's compact form)."""
    return 1 << FIELDS.index(field)
