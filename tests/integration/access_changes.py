"""Who may reach each change page (the URL x role table). Detail pages use fake ids: allowed
roles get 404. Every signed-in person may manage their own delegates, so the self-service pages
answer everyone; approvals need approve_delegation_changes, PowerShell manage_delegations."""

from __future__ import annotations

from tests.support.access import FAKE_OID, FAKE_PK, NOT_FOUND, SIGNED_IN, codes

_APPROVERS = codes(302, 403, 403, 200, 200)
_MANAGERS = codes(302, 403, 200, 403, 200)

EXPECTED = [
    ("changes:list", {}, "get", SIGNED_IN),
    ("changes:detail", {"pk": FAKE_PK}, "get", NOT_FOUND),
    ("changes:check", {"pk": FAKE_PK}, "post", NOT_FOUND),
    ("changes:cancel", {"pk": FAKE_PK}, "post", NOT_FOUND),
    ("changes:decide", {"pk": FAKE_PK}, "post", {**_APPROVERS, "manager": 404, "admin": 404}),
    ("changes:approvals", {}, "get", _APPROVERS),
    ("changes:people", {}, "get", SIGNED_IN),
    ("changes:grant", {"object_id": FAKE_OID}, "get", NOT_FOUND),
    ("changes:grant", {"object_id": FAKE_OID}, "post", NOT_FOUND),
    ("changes:remove", {"object_id": FAKE_OID}, "post", NOT_FOUND),
    ("changes:powershell", {}, "get", _MANAGERS),
    ("changes:powershell_script", {}, "get", _MANAGERS),
    # No such request: back to the PowerShell page with a message.
    (
        "changes:powershell_done",
        {"pk": FAKE_PK},
        "post",
        {**_MANAGERS, "helpdesk": 302, "admin": 302},
    ),
    ("changes:import", {}, "get", SIGNED_IN),
    # An empty upload shows the form again with its error.
    ("changes:import", {}, "post", SIGNED_IN),
    ("changes:batch", {"pk": FAKE_PK}, "get", NOT_FOUND),
    ("changes:batch_apply", {"pk": FAKE_PK}, "post", NOT_FOUND),
    ("changes:batch_progress", {"pk": FAKE_PK}, "get", NOT_FOUND),
]
