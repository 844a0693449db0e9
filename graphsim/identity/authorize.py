"""The authorize endpoint (a page to pick a demo person, or straight through with login_hint)
and logout."""

from __future__ import annotations

import html
import secrets
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from graphsim.identity.claims import client_info
from graphsim.identity.discovery import tenant_ok
from graphsim.loopback import is_loopback_host

RESPONSE_MODES = (None, "", "query", "form_post", "fragment")
PAGE_STYLE = """body{font-family:sans-serif;max-width:40em;margin:2em auto}
.error{color:#a00;font-weight:bold} li{margin:.3em 0} button{min-width:14em}"""


def redirect_ok(sim, uri: str | None) -> bool:
    """Any http(s) URI on a loopback host, or one given with --redirect-uri."""
    if not uri:
        return False
    if uri in sim.redirect_uris:
        return True
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)


def _sign_in_page(sim, params: dict, error: str | None = None) -> HTMLResponse:
    esc = html.escape
    tenant = sim.tenant
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
        for k, v in params.items()
        if k not in ("login_hint", "cancel", "prompt")
    )
    rows = []
    for uid in tenant.order[:40]:
        user = tenant.users[uid]
        roles = ", ".join(user.roles) or "no portal role"
        rows.append(
            '<li><button type="submit" name="login_hint" '
            f'value="{esc(user.userPrincipalName)}">'
            f"<bdi>{esc(user.displayName or '')}</bdi></button> "
            f"<small>{esc(user.userPrincipalName)} &middot; {esc(roles)}</small></li>"
        )
    err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - graphsim</title>
<style>{PAGE_STYLE}</style>
</head><body>
<h1>Sign in to the offline tenant</h1>
<p>graphsim &middot; tenant {esc(tenant.tenant_id)}</p>
{err}
<form method="post" action="">
{hidden}
<p><label for="upn">User principal name</label>
<input id="upn" name="login_hint" type="text" autocomplete="username">
<button type="submit" name="go" value="1">Sign in</button></p>
<h2>Pick a demo person</h2>
<ul>{"".join(rows)}</ul>
<p><button type="submit" name="cancel" value="1" formnovalidate>Cancel</button></p>
</form></body></html>"""
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sign-in error - graphsim</title></head><body>"
        f'<h1>Sign-in error</h1><p class="error" role="alert">{html.escape(message)}</p>'
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _back_to_app(params: dict, values: dict) -> Response:
    """Sends `values` (and the state) to the redirect URI in the requested response mode."""
    uri = params["redirect_uri"]
    mode = params.get("response_mode") or "query"
    if "state" in params:
        values["state"] = params["state"]
    if mode == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in values.items()
        )
        return HTMLResponse(
            "<!doctype html><html><head><title>Working...</title></head>"
            '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(uri)}">{fields}'
            "<noscript><button>Continue</button></noscript></form></body></html>"
        )
    parts = urlsplit(uri)
    if mode == "fragment":
        return RedirectResponse(urlunsplit(parts._replace(fragment=urlencode(values))), 302)
    query = parts.query + ("&" if parts.query else "") + urlencode(values)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), 302)


def _refuse(params: dict, error: str, description: str) -> Response:
    return _back_to_app(params, {"error": error, "error_description": description})


async def authorize(sim, request: Request):
    request.scope["graphsim.route"] = f"{request.method} /{{tenant}}/oauth2/v2.0/authorize"
    params = dict(request.query_params)
    submitted = {}
    if request.method == "POST":
        raw = (await request.body()).decode("utf-8", "replace")
        submitted = dict(parse_qsl(raw, keep_blank_values=True))
        params.update(submitted)
    refused = _bad_request_page(sim, request.path_params["tenant"], params)
    if refused is None:
        refused = _refused_to_app(params, submitted)
    if refused is not None:
        return refused
    hint = (params.get("login_hint") or "").strip()
    if not hint or (params.get("prompt") in ("login", "select_account") and not submitted):
        return _sign_in_page(sim, params)
    user = sim.tenant.find_user(hint)
    if user is None:
        return _sign_in_page(
            sim, params, f"AADSTS50034: The user account {hint} does not exist in this directory."
        )
    if not user.accountEnabled:
        return _sign_in_page(sim, params, f"AADSTS50057: The user account {hint} is disabled.")
    return _back_to_app(params, _issue_code(sim, user, params))


def _bad_request_page(sim, tenant: str, params: dict) -> Response | None:
    """Problems Entra ID shows on its own page: it never redirects to an unchecked URI."""
    if not tenant_ok(sim, tenant):
        return _error_page(f"AADSTS90002: Tenant '{tenant}' not found.")
    if params.get("client_id") not in (sim.client_id, sim.api_client.client_id):
        return _error_page(
            f"AADSTS700016: Application with identifier '{params.get('client_id')}' "
            "was not found in the directory."
        )
    if not redirect_ok(sim, params.get("redirect_uri")):
        return _error_page(
            "AADSTS50011: The redirect URI specified in the request does not match the "
            "redirect URIs configured for the application."
        )
    if params.get("response_mode") not in RESPONSE_MODES:
        return _error_page("AADSTS900144: unsupported response_mode.")
    return None


def _refused_to_app(params: dict, submitted: dict) -> Response | None:
    """Problems sent back to the application's redirect URI as `error=`."""
    if submitted.get("cancel"):
        return _refuse(
            params,
            "access_denied",
            "AADSTS65004: User declined to consent to access the app.",
        )
    if params.get("response_type") != "code":
        return _refuse(
            params,
            "unsupported_response_type",
            "AADSTS700054: response_type must be 'code'.",
        )
    if _challenge_method(params) not in (None, "S256", "plain"):
        return _refuse(params, "invalid_request", "AADSTS501491: Invalid code_challenge_method.")
    return None


def _challenge_method(params: dict) -> str | None:
    return params.get("code_challenge_method") or (
        "plain" if params.get("code_challenge") else None
    )


def _issue_code(sim, user, params: dict) -> dict:
    store = sim.identity
    code = secrets.token_urlsafe(32)
    store.codes[code] = {
        "oid": user.id,
        "client_id": params["client_id"],
        "redirect_uri": params["redirect_uri"],
        "scope": params.get("scope", ""),
        "nonce": params.get("nonce"),
        "challenge": params.get("code_challenge"),
        "method": _challenge_method(params),
        "expires": time.time() + sim.cfg.code_ttl_s,
        "used": False,
    }
    if len(store.codes) > 50000:
        cutoff = time.time()
        store.codes = {k: v for k, v in store.codes.items() if v["expires"] > cutoff}
    values = {"code": code, "session_state": str(uuid.uuid5(uuid.NAMESPACE_OID, user.id))}
    if params.get("client_info"):
        values["client_info"] = client_info(sim, user.id)
    return values


async def logout(sim, request: Request):
    request.scope["graphsim.route"] = "GET /{tenant}/oauth2/v2.0/logout"
    target = request.query_params.get("post_logout_redirect_uri")
    if target and redirect_ok(sim, target):
        return RedirectResponse(target, 302)
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Signed out - graphsim</title></head><body><h1>You signed out</h1>"
        "<p>It's a good idea to close all browser windows.</p></body></html>"
    )
