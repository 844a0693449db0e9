"""The receiver of Graph's call notifications (GRAPH_CONTRACT §7).

Authenticate first (401, nothing touched), then store and apply, then answer 202 at once.
No session, no CSRF: Graph signs each request with a JWT instead.
"""

from __future__ import annotations

import logging
import re

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.notifications import ingest
from portal.graph import notifications, untrusted_json
from portal.graph.callback_auth import CallbackAuthError, bearer_token, verify_notification_token

log = logging.getLogger(__name__)

# Our callbackUri carries the call's idempotency key (calls/services/start.py): a UUID's hex.
CALL_KEY = re.compile(r"[0-9a-f]{32}")


@login_not_required
@csrf_exempt
@require_POST
def callback(request):
    try:
        verify_notification_token(bearer_token(request.headers.get("Authorization", "")))
    except CallbackAuthError as exc:
        log.warning("call notification refused: %s", exc)
        return HttpResponse(status=401)
    try:
        parsed = notifications.parse_body(request.body)
    except untrusted_json.TooLarge:
        return HttpResponse(status=413)
    except ValueError:  # not JSON, too deep, unstorable, or not a notification envelope
        return HttpResponse(status=400)
    hint = request.GET.get("call", "")
    ingest(parsed, call_hint=hint if CALL_KEY.fullmatch(hint) else "")
    return HttpResponse(status=202)
