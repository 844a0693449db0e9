"""Who may reach each API URL with a browser session: nobody. The API takes Entra ID bearer
tokens only, so every role's session cookie (and no cookie) is 401, never a login redirect;
the schema and its documentation page are public. Access per app role and per portal role with
a token: docs/api.md and tests/integration/test_api_access.py."""

from __future__ import annotations

from tests.support.access import everyone

OID = "00000000-0000-4000-8000-000000000001"
_NO_SESSION = everyone(401)
# django-ninja's root pattern and any path under /api/ that names nothing: a 404 problem.
_NO_ROOT = everyone(404)
_PUBLIC = everyone(200)

# The endpoints behind a bearer token: a session, or none, is 401 on each.
_TOKEN_ONLY = [
    ("api:search_people", {}, "get"),
    ("api:get_person", {"object_id": OID}, "get"),
    ("api:delegates_of", {"object_id": OID}, "get"),
    ("api:delegators_of", {"object_id": OID}, "get"),
    ("api:list_grants", {}, "get"),
    ("api:list_sync_runs", {}, "get"),
    ("api:start_sync", {}, "post"),
    ("api:list_change_requests", {}, "get"),
    ("api:create_change_request", {}, "post"),
    ("api:get_change_request", {"request_id": 1}, "get"),
    ("api:approve_change_request", {"request_id": 1}, "post"),
    ("api:list_calls", {}, "get"),
    ("api:start_call", {}, "post"),
    ("api:get_call", {"call_id": 1}, "get"),
    ("api:transfer_call", {"call_id": 1}, "post"),
    ("api:end_call", {"call_id": 1}, "post"),
    ("api:list_review_campaigns", {}, "get"),
    ("api:get_review_campaign", {"campaign_id": 1}, "get"),
]

EXPECTED = [
    ("api:openapi-json", {}, "get", _PUBLIC),
    ("api:api_docs", {}, "get", _PUBLIC),
    ("api:api-root", {}, "get", _NO_ROOT),
    ("api:not_found", {"rest": "no/such/thing"}, "get", _NO_ROOT),
    *[(name, kwargs, method, _NO_SESSION) for name, kwargs, method in _TOKEN_ONLY],
]
