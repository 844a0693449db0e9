"""Reachability of Microsoft's endpoints for /healthz: any HTTP answer means reachable."""

from __future__ import annotations

import requests
from django.conf import settings

from portal.graph.http import MicrosoftSession


def probe(timeout: float = 3.0) -> dict:
    session = MicrosoftSession(timeout=timeout)
    result = {}
    targets = {"graph": settings.GRAPH_BASE_URL + "/v1.0/"}
    if settings.MS_AUTHORITY:
        targets["identity"] = settings.MS_AUTHORITY + "/v2.0/.well-known/openid-configuration"
    for name, url in targets.items():
        try:
            resp = session.get(url, allow_redirects=False)
            result[name] = {"ok": resp.status_code < 500, "status": resp.status_code}
        except requests.RequestException as exc:
            result[name] = {"ok": False, "error": type(exc).__name__}
    session.close()
    return result
