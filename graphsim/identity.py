"""Entra ID (v2.0 endpoints): discovery, JWKS, authorize, token, logout."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import ipaddress
import json
import secrets
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .acs import ACS_SCOPES, token_audience
from .keys import b64u

GRAPH = "https://graph.microsoft.com"
DELEGATED_SCOPES = (
    "User.Read",
    "User.Read.All",
    "CallDelegation.Read",
    "CallDelegation.ReadWrite",
    "offline_access",
    "openid",
    "profile",
)
OIDC_SCOPES = ("offline_access", "openid", "profile", "email")
APP_ROLES = ("User.Read.All", "Calls.Initiate.All", "Calls.InitiateGroupCall.All")


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Identity:
    def __init__(self, sim):
        self.sim = sim
        self.codes: dict[str, dict] = {}
        self.refresh: dict[str, dict] = {}
        self.fail_next = 0
        self.fail_status = 500
        self.slow_next = 0
        self.slow_ms = 2000.0

    # ------------------------------------------------------------------ helpers
    @property
    def issuer(self) -> str:
        return f"{self.sim.base}/{self.sim.tenant.tenant_id}/v2.0"

    def redirect_ok(self, uri: str | None) -> bool:
        if not uri:
            return False
        if uri in self.sim.redirect_uris:
            return True
        try:
            parts = urlsplit(uri)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)

    def tenant_ok(self, tenant: str) -> bool:
        return tenant in (self.sim.tenant.tenant_id, "common", "organizations")

    def oauth_error(self, status, error, code, description, headers=None) -> JSONResponse:
        trace = str(uuid.uuid4())
        corr = str(uuid.uuid4())
        ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return JSONResponse(
            {
                "error": error,
                "error_description": f"AADSTS{code}: {description} Trace ID: {trace} "
                f"Correlation ID: {corr} Timestamp: {ts}",
                "error_codes": [code],
                "timestamp": ts,
                "trace_id": trace,
                "correlation_id": corr,
                "error_uri": f"{self.sim.base}/error?code={code}",
            },
            status_code=status,
            headers=headers,
        )

    def sign(self, claims: dict) -> str:
        key = self.sim.id_key
        return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.kid})

    # ------------------------------------------------------------------ discovery
    async def openid_configuration(self, request: Request):
        request.scope["graphsim.route"] = "GET /{tenant}/v2.0/.well-known/openid-configuration"
        tenant = request.path_params["tenant"]
        if not self.tenant_ok(tenant):
            return self.oauth_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        tid = self.sim.tenant.tenant_id
        a = f"{self.sim.base}/{tenant}"
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{a}/oauth2/v2.0/authorize",
                "token_endpoint": f"{a}/oauth2/v2.0/token",
                "jwks_uri": f"{self.sim.base}/{tid}/discovery/v2.0/keys",
                "end_session_endpoint": f"{a}/oauth2/v2.0/logout",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nbf",
                    "name",
                    "nonce",
                    "oid",
                    "preferred_username",
                    "tid",
                    "roles",
                    "groups",
                    "ver",
                ],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "graphsim.test",
                "request_uri_parameter_supported": False,
                "frontchannel_logout_supported": True,
                "http_logout_supported": True,
            }
        )

    async def jwks(self, request: Request):
        request.scope["graphsim.route"] = "GET /{tenant}/discovery/v2.0/keys"
        return JSONResponse({"keys": [self.sim.id_key.jwk]})

    # ------------------------------------------------------------------ authorize
    def _page(self, params: dict, error: str | None = None, status: int = 200) -> HTMLResponse:
        esc = html.escape
        t = self.sim.tenant
        hidden = "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
            for k, v in params.items()
            if k not in ("login_hint", "cancel", "prompt")
        )
        people = [t.users[i] for i in t.order[:40]]
        rows = []
        for u in people:
            roles = ", ".join(u.roles) or "no portal role"
            rows.append(
                '<li><button type="submit" name="login_hint" '
                f'value="{esc(u.userPrincipalName)}">'
                f"<bdi>{esc(u.displayName or '')}</bdi></button> "
                f"<small>{esc(u.userPrincipalName)} &middot; {esc(roles)}</small></li>"
            )
        err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - graphsim</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}
.error{{color:#a00;font-weight:bold}} li{{margin:.3em 0}} button{{min-width:14em}}</style>
</head><body>
<h1>Sign in to the offline tenant</h1>
<p>graphsim &middot; tenant {esc(t.tenant_id)}</p>
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
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def _error_page(self, message: str, status: int = 400) -> HTMLResponse:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Sign-in error - graphsim</title></head><body>"
            f'<h1>Sign-in error</h1><p class="error" role="alert">{html.escape(message)}</p>'
            "</body></html>"
        )
        return HTMLResponse(body, status_code=status)

    def _redirect(self, params: dict, values: dict) -> Response:
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

    async def authorize(self, request: Request):
        request.scope["graphsim.route"] = f"{request.method} /{{tenant}}/oauth2/v2.0/authorize"
        params = dict(request.query_params)
        submitted = {}
        if request.method == "POST":
            raw = (await request.body()).decode("utf-8", "replace")
            submitted = dict(parse_qsl(raw, keep_blank_values=True))
            params.update(submitted)
        tenant = request.path_params["tenant"]
        if not self.tenant_ok(tenant):
            return self._error_page(f"AADSTS90002: Tenant '{tenant}' not found.")
        if params.get("client_id") != self.sim.client_id:
            return self._error_page(
                f"AADSTS700016: Application with identifier '{params.get('client_id')}' "
                "was not found in the directory."
            )
        if not self.redirect_ok(params.get("redirect_uri")):
            return self._error_page(
                "AADSTS50011: The redirect URI specified in the request does not match the "
                "redirect URIs configured for the application."
            )
        if params.get("response_mode") not in (None, "", "query", "form_post", "fragment"):
            return self._error_page("AADSTS900144: unsupported response_mode.")
        if submitted.get("cancel"):
            return self._redirect(
                params,
                {
                    "error": "access_denied",
                    "error_description": "AADSTS65004: User declined to consent to access the app.",
                },
            )
        if params.get("response_type") != "code":
            return self._redirect(
                params,
                {
                    "error": "unsupported_response_type",
                    "error_description": "AADSTS700054: response_type must be 'code'.",
                },
            )
        method = params.get("code_challenge_method") or (
            "plain" if params.get("code_challenge") else None
        )
        if method not in (None, "S256", "plain"):
            return self._redirect(
                params,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS501491: Invalid code_challenge_method.",
                },
            )
        hint = (params.get("login_hint") or "").strip()
        prompt = params.get("prompt")
        if not hint or (prompt in ("login", "select_account") and not submitted):
            return self._page(params)
        user = self.sim.tenant.find_user(hint)
        if user is None:
            return self._page(
                params,
                f"AADSTS50034: The user account {hint} does not exist in this directory.",
            )
        if not user.accountEnabled:
            return self._page(params, f"AADSTS50057: The user account {hint} is disabled.")
        code = secrets.token_urlsafe(32)
        self.codes[code] = {
            "oid": user.id,
            "redirect_uri": params["redirect_uri"],
            "scope": params.get("scope", ""),
            "nonce": params.get("nonce"),
            "challenge": params.get("code_challenge"),
            "method": method,
            "expires": time.time() + self.sim.cfg.code_ttl_s,
            "used": False,
        }
        if len(self.codes) > 50000:
            cutoff = time.time()
            self.codes = {k: v for k, v in self.codes.items() if v["expires"] > cutoff}
        values = {"code": code, "session_state": str(uuid.uuid5(uuid.NAMESPACE_OID, user.id))}
        if params.get("client_info"):
            values["client_info"] = self.client_info(user.id)
        return self._redirect(params, values)

    # ------------------------------------------------------------------ logout
    async def logout(self, request: Request):
        request.scope["graphsim.route"] = "GET /{tenant}/oauth2/v2.0/logout"
        target = request.query_params.get("post_logout_redirect_uri")
        if target and self.redirect_ok(target):
            return RedirectResponse(target, 302)
        return HTMLResponse(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Signed out - graphsim</title></head><body><h1>You signed out</h1>"
            "<p>It's a good idea to close all browser windows.</p></body></html>"
        )

    # ------------------------------------------------------------------ token
    def client_info(self, oid: str) -> str:
        raw = json.dumps({"uid": oid, "utid": self.sim.tenant.tenant_id}, separators=(",", ":"))
        raw = raw.encode()
        return b64u(raw)

    def _client_auth(self, request: Request, form: dict) -> JSONResponse | None:
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                from urllib.parse import unquote

                dec = base64.b64decode(auth[6:]).decode()
                cid, _, secret = dec.partition(":")
                cid, secret = unquote(cid), unquote(secret)
            except (ValueError, UnicodeDecodeError):
                return self.oauth_error(401, "invalid_client", 7000216, "Malformed client auth.")
        if cid != self.sim.client_id:
            return self.oauth_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{cid}' was not found in the directory.",
            )
        if form.get("client_assertion"):
            return self.oauth_error(
                401, "invalid_client", 700027, "Client assertion is not supported by graphsim."
            )
        if not secret:
            return self.oauth_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        if not secrets.compare_digest(secret, self.sim.client_secret):
            return self.oauth_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID.",
            )
        return None

    @staticmethod
    def _norm_scopes(scope: str) -> list[str]:
        out = []
        for s in scope.split():
            low = s.lower()
            if low.startswith(GRAPH.lower() + "/"):
                s = s[len(GRAPH) + 1 :]
            elif low.startswith("00000003-0000-0000-c000-000000000000/"):
                s = s.split("/", 1)[1]
            out.append(s)
        return out

    def _grant_delegated(self, scope: str) -> list[str]:
        req = self._norm_scopes(scope)
        known = {s.lower(): s for s in DELEGATED_SCOPES + ACS_SCOPES}
        granted = []
        for s in req:
            if s == ".default":
                granted.extend(x for x in DELEGATED_SCOPES if x not in OIDC_SCOPES)
            elif s.lower() in known:
                granted.append(known[s.lower()])
        seen = []
        for s in granted:
            if s not in seen:
                seen.append(s)
        return seen

    def _issue_delegated(self, user, scopes: list[str], nonce, family=None) -> dict:
        cfg = self.sim.cfg
        now = int(time.time())
        tid = self.sim.tenant.tenant_id
        resource_scopes = [s for s in scopes if s not in ("offline_access",)]
        aud, resource_scopes = token_audience(resource_scopes) or (GRAPH, resource_scopes)
        at_claims = {
            "aud": aud,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now - 5,
            "exp": now + cfg.token_lifetime_s,
            "tid": tid,
            "oid": user.id,
            "sub": user.id,
            "upn": user.userPrincipalName,
            "name": user.displayName,
            "appid": self.sim.client_id,
            "scp": " ".join(resource_scopes),
            "ver": "1.0",
            "uti": secrets.token_urlsafe(8),
        }
        out = {
            "token_type": "Bearer",
            "scope": " ".join(s for s in scopes if s not in ("offline_access",)),
            "expires_in": cfg.token_lifetime_s,
            "ext_expires_in": cfg.token_lifetime_s,
            "access_token": self.sign(at_claims),
            "client_info": self.client_info(user.id),
        }
        if "openid" in scopes:
            idc = {
                "aud": self.sim.client_id,
                "iss": self.issuer,
                "iat": now,
                "nbf": now - 5,
                "exp": now + cfg.id_token_lifetime_s,
                "tid": tid,
                "oid": user.id,
                "sub": b64u(hashlib.sha256(f"{user.id}:{self.sim.client_id}".encode()).digest()),
                "name": user.displayName,
                "preferred_username": user.userPrincipalName,
                "ver": "2.0",
                "uti": secrets.token_urlsafe(8),
            }
            if nonce is not None:
                idc["nonce"] = nonce
            if user.roles:
                idc["roles"] = list(user.roles)
            if cfg.include_groups_claim and user.groups:
                idc["groups"] = list(user.groups)
            out["id_token"] = self.sign(idc)
        if "offline_access" in scopes:
            rt = secrets.token_urlsafe(48)
            self.refresh[rt] = {
                "oid": user.id,
                "scopes": scopes,
                "expires": time.time() + cfg.refresh_lifetime_s,
                "revoked": None,
                "family": family or secrets.token_hex(8),
            }
            out["refresh_token"] = rt
        self.sim.stats.tokens_issued["delegated"] += 1
        return out

    def _issue_app(self) -> dict:
        cfg = self.sim.cfg
        now = int(time.time())
        tid = self.sim.tenant.tenant_id
        roles = list(APP_ROLES)
        if cfg.app_delegation_read:
            roles.append("CallDelegation.Read.All")
        claims = {
            "aud": GRAPH,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now - 5,
            "exp": now + cfg.token_lifetime_s,
            "tid": tid,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_OID, self.sim.client_id)),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_OID, self.sim.client_id)),
            "appid": self.sim.client_id,
            "idtyp": "app",
            "roles": roles,
            "ver": "1.0",
            "uti": secrets.token_urlsafe(8),
        }
        self.sim.stats.tokens_issued["app"] += 1
        return {
            "token_type": "Bearer",
            "expires_in": cfg.token_lifetime_s,
            "ext_expires_in": cfg.token_lifetime_s,
            "access_token": self.sign(claims),
        }

    async def token(self, request: Request):
        request.scope["graphsim.route"] = "POST /{tenant}/oauth2/v2.0/token"
        if self.slow_next > 0:
            self.slow_next -= 1
            await asyncio.sleep(self.slow_ms / 1000)
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.oauth_error(
                self.fail_status,
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again.",
            )
        tenant = request.path_params["tenant"]
        if not self.tenant_ok(tenant):
            return self.oauth_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return self.oauth_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        bad = self._client_auth(request, form)
        if bad is not None:
            return bad
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._auth_code(form)
        if grant == "refresh_token":
            return self._refresh(form)
        if grant == "client_credentials":
            scope = self._norm_scopes(form.get("scope", ""))
            if scope != [".default"]:
                return self.oauth_error(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {form.get('scope')} is not valid. Client "
                    "credential flows must have a scope value with /.default suffixed to the "
                    "resource identifier (application ID URI).",
                )
            return JSONResponse(self._issue_app())
        return self.oauth_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )

    def _auth_code(self, form: dict):
        code = form.get("code") or ""
        entry = self.codes.get(code)
        if entry is None:
            return self.oauth_error(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if entry["used"]:
            return self.oauth_error(
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, "
                "please retry with a new valid code or use an existing refresh token.",
            )
        entry["used"] = True
        if time.time() > entry["expires"]:
            return self.oauth_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token "
                "has expired due to inactivity. Send a new interactive authorization request.",
            )
        if form.get("redirect_uri") != entry["redirect_uri"]:
            return self.oauth_error(
                400,
                "invalid_grant",
                50148,
                "The redirect_uri does not match the one used in the authorization request.",
            )
        if entry["challenge"]:
            verifier = form.get("code_verifier")
            if not verifier:
                return self.oauth_error(
                    400,
                    "invalid_request",
                    50148,
                    "The code_verifier is required because a code_challenge was sent.",
                )
            if entry["method"] == "S256":
                calc = b64u(hashlib.sha256(verifier.encode()).digest())
            else:
                calc = verifier
            if not secrets.compare_digest(calc, entry["challenge"]):
                return self.oauth_error(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request.",
                )
        user = self.sim.tenant.users.get(entry["oid"])
        if user is None or not user.accountEnabled:
            return self.oauth_error(400, "invalid_grant", 50057, "The user account is disabled.")
        scopes = self._grant_delegated(form.get("scope") or entry["scope"])
        return JSONResponse(self._issue_delegated(user, scopes, entry["nonce"]))

    def _refresh(self, form: dict):
        rt = form.get("refresh_token") or ""
        entry = self.refresh.get(rt)
        if entry is None:
            return self.oauth_error(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if entry["revoked"] == "revoked":
            return self.oauth_error(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being "
                "revoked, a fresh auth token is needed. The user might have changed or reset "
                "their password.",
            )
        if entry["revoked"] == "used":
            return self.oauth_error(
                400,
                "invalid_grant",
                70043,
                "The refresh token has already been used.",
            )
        if entry["revoked"] == "expired" or time.time() > entry["expires"]:
            return self.oauth_error(
                400,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. "
                "The token was issued on an earlier date and was inactive for 90.00:00:00.",
            )
        user = self.sim.tenant.users.get(entry["oid"])
        if user is None:
            return self.oauth_error(
                400, "invalid_grant", 50034, "The user account does not exist in the directory."
            )
        if not user.accountEnabled:
            return self.oauth_error(400, "invalid_grant", 50057, "The user account is disabled.")
        scopes = self._grant_delegated(form.get("scope") or " ".join(entry["scopes"]))
        if "offline_access" not in scopes:
            scopes.append("offline_access")
        cfg = self.sim.cfg
        out = self._issue_delegated(user, scopes, None, entry["family"])
        if cfg.rotate_refresh_tokens:
            if cfg.refresh_single_use:
                entry["revoked"] = "used"
        else:
            new = out.pop("refresh_token")
            del self.refresh[new]
            out["refresh_token"] = rt
        return JSONResponse(out)

    # ------------------------------------------------------------------ hooks
    def revoke(self, who: str) -> int:
        u = self.sim.tenant.find_user(who)
        oid = u.id if u else who
        n = 0
        for e in self.refresh.values():
            if e["oid"] == oid and e["revoked"] is None:
                e["revoked"] = "revoked"
                n += 1
        return n

    def expire_all(self) -> int:
        n = 0
        for e in self.refresh.values():
            if e["revoked"] is None:
                e["revoked"] = "expired"
                n += 1
        return n
