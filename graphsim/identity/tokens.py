"""The token endpoint: client authentication, then the authorization code (with PKCE), refresh
token and client credentials grants."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphsim.identity.claims import (
    granted_delegated_scopes,
    issue_api_app,
    issue_api_delegated,
    issue_app,
    issue_delegated,
    normalise_scopes,
)
from graphsim.identity.discovery import tenant_ok
from graphsim.identity.errors import oauth_error
from graphsim.keys import b64u

MALFORMED = "Invalid request. Request is malformed or invalid."


async def token(sim, request: Request):
    request.scope["graphsim.route"] = "POST /{tenant}/oauth2/v2.0/token"
    store = sim.identity
    if store.slow_next > 0:
        store.slow_next -= 1
        await asyncio.sleep(store.slow_ms / 1000)
    if store.fail_next > 0:
        store.fail_next -= 1
        return oauth_error(
            sim,
            store.fail_status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
    tenant = request.path_params["tenant"]
    if not tenant_ok(sim, tenant):
        return oauth_error(sim, 400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return oauth_error(
            sim,
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    refused = _client_auth(sim, request, form)
    if refused is not None:
        return refused
    grant = form.get("grant_type")
    if grant == "authorization_code":
        return _auth_code(sim, form)
    if grant == "refresh_token":
        return _refresh(sim, form)
    if grant == "client_credentials":
        return _client_credentials(sim, form)
    return oauth_error(
        sim,
        400,
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant}'.",
    )


def _client_auth(sim, request: Request, form: dict) -> JSONResponse | None:
    """The client id and secret, from the form (client_secret_post) or HTTP basic."""
    cid, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return oauth_error(sim, 401, "invalid_client", 7000216, "Malformed client auth.")
        cid, _, secret = decoded.partition(":")
        cid, secret = unquote(cid), unquote(secret)
    expected = sim.client_secret if cid == sim.client_id else sim.api_client.secret_of(cid)
    if expected is None:
        return oauth_error(
            sim,
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{cid}' was not found in the directory.",
        )
    if form.get("client_assertion"):
        return oauth_error(
            sim, 401, "invalid_client", 700027, "Client assertion is not supported by graphsim."
        )
    if not secret:
        return oauth_error(
            sim,
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' "
            "or 'client_secret'.",
        )
    if not secrets.compare_digest(secret, expected):
        return oauth_error(
            sim,
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            "the client secret value, not the client secret ID.",
        )
    form["client_id"] = cid  # the authenticated client, whichever way it authenticated
    return None


def _client_credentials(sim, form: dict):
    if sim.api_client.wants_our_api(form.get("scope", "")):
        return JSONResponse(issue_api_app(sim, form["client_id"]))
    if form["client_id"] != sim.client_id:  # the automation client may only call our API
        return oauth_error(
            sim, 400, "invalid_scope", 500011, "The resource principal was not found."
        )
    if normalise_scopes(form.get("scope", "")) != [".default"]:
        return oauth_error(
            sim,
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {form.get('scope')} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the "
            "resource identifier (application ID URI).",
        )
    return JSONResponse(issue_app(sim))


def _auth_code(sim, form: dict):
    entry = sim.identity.codes.get(form.get("code") or "")
    if entry is None:
        return oauth_error(sim, 400, "invalid_grant", 9002313, MALFORMED)
    if entry["used"]:
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, "
            "please retry with a new valid code or use an existing refresh token.",
        )
    entry["used"] = True
    if entry["client_id"] != form["client_id"]:
        return oauth_error(
            sim, 400, "invalid_grant", 70000, "The code was issued to another application."
        )
    if time.time() > entry["expires"]:
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token "
            "has expired due to inactivity. Send a new interactive authorization request.",
        )
    if form.get("redirect_uri") != entry["redirect_uri"]:
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            50148,
            "The redirect_uri does not match the one used in the authorization request.",
        )
    refused = _check_pkce(sim, entry, form.get("code_verifier"))
    if refused is not None:
        return refused
    user = sim.tenant.users.get(entry["oid"])
    if user is None or not user.accountEnabled:
        return oauth_error(sim, 400, "invalid_grant", 50057, "The user account is disabled.")
    return _delegated(sim, user, form, form.get("scope") or entry["scope"], entry["nonce"])


def _delegated(sim, user, form: dict, scope: str, nonce, family=None):
    """A person's token for the resource asked: the portal's own API, or Graph (and ACS)."""
    api_scopes = sim.api_client.delegated_scopes(scope)
    if api_scopes == []:
        return oauth_error(
            sim, 400, "invalid_scope", 65005, "The application asked for a scope the API lacks."
        )
    if api_scopes is not None:
        wanted = scope.split()
        if family is not None and "offline_access" not in wanted:
            wanted.append("offline_access")
        answer = issue_api_delegated(sim, user, form["client_id"], wanted, nonce, family)
        return JSONResponse(answer)
    if form["client_id"] != sim.client_id:  # the automation client holds no Graph permission
        return oauth_error(
            sim, 400, "invalid_scope", 65001, "The application has no permission for that scope."
        )
    scopes = granted_delegated_scopes(scope)
    if family is not None and "offline_access" not in scopes:
        scopes.append("offline_access")
    return JSONResponse(issue_delegated(sim, user, scopes, nonce, family))


def _check_pkce(sim, entry: dict, verifier: str | None) -> JSONResponse | None:
    if not entry["challenge"]:
        return None
    if not verifier:
        return oauth_error(
            sim,
            400,
            "invalid_request",
            50148,
            "The code_verifier is required because a code_challenge was sent.",
        )
    if entry["method"] == "S256":
        computed = b64u(hashlib.sha256(verifier.encode()).digest())
    else:
        computed = verifier
    if not secrets.compare_digest(computed, entry["challenge"]):
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request.",
        )
    return None


def _refresh(sim, form: dict):
    refresh_token = form.get("refresh_token") or ""
    entry = sim.identity.refresh.get(refresh_token)
    refused = _refresh_refusal(sim, entry)
    if refused is not None:
        return refused
    user = sim.tenant.users.get(entry["oid"])
    if user is None:
        return oauth_error(
            sim, 400, "invalid_grant", 50034, "The user account does not exist in the directory."
        )
    if not user.accountEnabled:
        return oauth_error(sim, 400, "invalid_grant", 50057, "The user account is disabled.")
    if entry["client_id"] != form["client_id"]:
        return oauth_error(
            sim, 400, "invalid_grant", 70000, "The refresh token was issued to another application."
        )
    scope = form.get("scope") or " ".join(entry["scopes"])
    answer = _delegated(sim, user, form, scope, None, entry["family"])
    if answer.status_code != 200:
        return answer
    cfg = sim.cfg
    out = json.loads(answer.body)
    if cfg.rotate_refresh_tokens:
        if cfg.refresh_single_use:
            entry["revoked"] = "used"
    else:  # the same refresh token keeps working: forget the new one
        del sim.identity.refresh[out.pop("refresh_token")]
        out["refresh_token"] = refresh_token
    return JSONResponse(out)


def _refresh_refusal(sim, entry: dict | None) -> JSONResponse | None:
    if entry is None:
        return oauth_error(sim, 400, "invalid_grant", 9002313, MALFORMED)
    if entry["revoked"] == "revoked":
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being "
            "revoked, a fresh auth token is needed. The user might have changed or reset "
            "their password.",
        )
    if entry["revoked"] == "used":
        return oauth_error(
            sim, 400, "invalid_grant", 70043, "The refresh token has already been used."
        )
    if entry["revoked"] == "expired" or time.time() > entry["expires"]:
        return oauth_error(
            sim,
            400,
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity. "
            "The token was issued on an earlier date and was inactive for 90.00:00:00.",
        )
    return None
