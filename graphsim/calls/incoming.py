"""An incoming call to the application (`/_sim/incoming-call`): the test plays the caller."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from graphsim.calls.model import Call
from graphsim.calls.notify import set_state

DEFAULT_CALLER = "nobody@contoso.test"


def incoming_call(sim, body: dict) -> tuple[int, dict]:
    """Rings the application: (201, the call) or (400, {"error": why})."""
    callback = body.get("callbackUri") or sim.cfg.incoming_callback_uri
    if not callback:
        return 400, {"error": "callbackUri is required (or set incoming_callback_uri)."}
    if not isinstance(callback, str) or urlsplit(callback).scheme not in ("http", "https"):
        return 400, {"error": "callbackUri must be an http(s) URL."}
    caller = body.get("caller") or DEFAULT_CALLER
    if isinstance(caller, str) and caller.startswith("+"):
        identity = {"phone": {"id": caller}}
    else:
        identity = _user_identity(sim, caller)
        if identity is None:
            return 400, {"error": f"unknown caller {caller}"}
    called = body.get("called")
    called_identity = _user_identity(sim, called) if called else None
    if called and called_identity is None:
        return 400, {"error": f"unknown called person {called}"}
    call = Call(sim.calls.new_id())
    if called_identity is not None:
        # The person the caller dialled, whose call reached the application (contract §7).
        call.incoming_context = {
            "@odata.type": "#microsoft.graph.incomingContext",
            "onBehalfOf": {"@odata.type": "#microsoft.graph.identitySet", **called_identity},
        }
    call.state = call.direction = "incoming"
    call.callback_uri = callback
    call.source = {"@odata.type": "#microsoft.graph.participantInfo", "identity": identity}
    call.targets = [
        {
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "identity": {"application": {"id": sim.client_id}},
        }
    ]
    call.tenant_id = sim.tenant.tenant_id
    call.media_config = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
    window = float(body.get("redirect_window_s") or sim.cfg.redirect_window_s)
    call.incoming_deadline = time.time() + window
    sim.calls.add(call)
    set_state(sim, call, "incoming", change="created")
    return 201, {
        "id": call.id,
        "state": "incoming",
        "callbackUri": callback,
        "redirect_deadline_s": window,
    }


def _user_identity(sim, ref) -> dict | None:
    user = sim.tenant.find_user(ref if isinstance(ref, str) else "")
    if user is None:
        return None
    return {
        "user": {
            "id": user.id,
            "displayName": user.displayName,
            "tenantId": sim.tenant.tenant_id,
        }
    }
