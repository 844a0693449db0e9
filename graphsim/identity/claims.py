"""What the tokens say: granted scopes and roles, access and id token claims, the answers of
the token endpoint, and their signature."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid

import jwt

from graphsim.acs import ACS_SCOPES, token_audience
from graphsim.identity.discovery import issuer
from graphsim.keys import b64u

GRAPH = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
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


def sign(sim, claims: dict) -> str:
    key = sim.id_key
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.kid})


def client_info(sim, oid: str) -> str:
    raw = json.dumps({"uid": oid, "utid": sim.tenant.tenant_id}, separators=(",", ":"))
    return b64u(raw.encode())


def normalise_scopes(scope: str) -> list[str]:
    """Scopes without their resource prefix (`https://graph.microsoft.com/` or Graph's app id)."""
    out = []
    for name in scope.split():
        low = name.lower()
        if low.startswith(GRAPH.lower() + "/"):
            name = name[len(GRAPH) + 1 :]
        elif low.startswith(GRAPH_APP_ID + "/"):
            name = name.split("/", 1)[1]
        out.append(name)
    return out


def granted_delegated_scopes(scope: str) -> list[str]:
    """The requested scopes the app has (`.default`: all its resource scopes), in order, once."""
    known = {name.lower(): name for name in DELEGATED_SCOPES + ACS_SCOPES}
    granted = []
    for name in normalise_scopes(scope):
        if name == ".default":
            granted.extend(own for own in DELEGATED_SCOPES if own not in OIDC_SCOPES)
        elif name.lower() in known:
            granted.append(known[name.lower()])
    return list(dict.fromkeys(granted))


def _access_token_claims(sim, now: int, subject: dict, aud: str = GRAPH) -> dict:
    """An access token for `aud` (Graph unless ACS was asked; v1 tokens, as Graph's are) about
    `subject`."""
    tid = sim.tenant.tenant_id
    return {
        "aud": aud,
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": now,
        "nbf": now - 5,
        "exp": now + sim.cfg.token_lifetime_s,
        "tid": tid,
        **subject,
        "ver": "1.0",
        "uti": secrets.token_urlsafe(8),
    }


def _id_token_claims(sim, now: int, user, nonce, client_id: str | None = None) -> dict:
    cfg = sim.cfg
    claims = {
        "aud": client_id or sim.client_id,
        "iss": issuer(sim),
        "iat": now,
        "nbf": now - 5,
        "exp": now + cfg.id_token_lifetime_s,
        "tid": sim.tenant.tenant_id,
        "oid": user.id,
        "sub": b64u(hashlib.sha256(f"{user.id}:{client_id or sim.client_id}".encode()).digest()),
        "name": user.displayName,
        "preferred_username": user.userPrincipalName,
        "ver": "2.0",
        "uti": secrets.token_urlsafe(8),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if user.roles:
        claims["roles"] = list(user.roles)
    if cfg.include_groups_claim and user.groups:
        claims["groups"] = list(user.groups)
    return claims


def issue_delegated(sim, user, scopes: list[str], nonce, family=None) -> dict:
    """The token endpoint's answer for a person: access token, id token (with `openid`) and a
    refresh token (with `offline_access`) in the refresh-token `family`."""
    cfg = sim.cfg
    now = int(time.time())
    # Entra issues one token per resource: an ACS scope makes an ACS token.
    wanted = [scope for scope in scopes if scope != "offline_access"]
    aud, wanted = token_audience(wanted) or (GRAPH, wanted)
    resource_scopes = " ".join(wanted)
    subject = {
        "oid": user.id,
        "sub": user.id,
        "upn": user.userPrincipalName,
        "name": user.displayName,
        "appid": sim.client_id,
        "scp": resource_scopes,
    }
    out = {
        "token_type": "Bearer",
        "scope": resource_scopes,
        "expires_in": cfg.token_lifetime_s,
        "ext_expires_in": cfg.token_lifetime_s,
        "access_token": sign(sim, _access_token_claims(sim, now, subject, aud)),
        "client_info": client_info(sim, user.id),
    }
    if "openid" in scopes:
        out["id_token"] = sign(sim, _id_token_claims(sim, now, user, nonce))
    if "offline_access" in scopes:
        out["refresh_token"] = _refresh_token(sim, user, scopes, family)
    sim.stats.tokens_issued["delegated"] += 1
    return out


def _refresh_token(sim, user, scopes: list[str], family, client_id: str | None = None) -> str:
    refresh_token = secrets.token_urlsafe(48)
    sim.identity.refresh[refresh_token] = {
        "oid": user.id,
        "scopes": scopes,
        "expires": time.time() + sim.cfg.refresh_lifetime_s,
        "revoked": None,
        "family": family or secrets.token_hex(8),
        "client_id": client_id or sim.client_id,
    }
    return refresh_token


def issue_api_delegated(sim, user, client_id: str, scopes: list[str], nonce, family=None) -> dict:
    """A person's token for the portal's own API (`scopes`: what was asked, with the API's
    scopes as full names), for the client that redeemed the code or refresh token."""
    cfg = sim.cfg
    now = int(time.time())
    granted = sim.api_client.delegated_scopes(" ".join(scopes)) or []
    claims = sim.api_client.delegated_claims(sim, user, client_id, granted)
    out = {
        "token_type": "Bearer",
        "scope": " ".join(f"{sim.api_client.app_id_uri}/{name}" for name in granted),
        "expires_in": cfg.token_lifetime_s,
        "ext_expires_in": cfg.token_lifetime_s,
        "access_token": sign(sim, claims),
        "client_info": client_info(sim, user.id),
    }
    if "openid" in scopes:
        out["id_token"] = sign(sim, _id_token_claims(sim, now, user, nonce, client_id))
    if "offline_access" in scopes:
        out["refresh_token"] = _refresh_token(sim, user, scopes, family, client_id)
    sim.stats.tokens_issued["delegated"] += 1
    return out


def issue_app(sim) -> dict:
    """The token endpoint's answer to client credentials: an app-only token with app roles."""
    cfg = sim.cfg
    roles = list(APP_ROLES)
    if cfg.app_delegation_read:
        roles.append("CallDelegation.Read.All")
    app_object_id = str(uuid.uuid5(uuid.NAMESPACE_OID, sim.client_id))
    subject = {
        "oid": app_object_id,
        "sub": app_object_id,
        "appid": sim.client_id,
        "idtyp": "app",
        "roles": roles,
    }
    claims = _access_token_claims(sim, int(time.time()), subject)
    sim.stats.tokens_issued["app"] += 1
    return {
        "token_type": "Bearer",
        "expires_in": cfg.token_lifetime_s,
        "ext_expires_in": cfg.token_lifetime_s,
        "access_token": sign(sim, claims),
    }


def issue_api_app(sim, client_id: str) -> dict:
    """Client credentials for the portal's own API (GRAPH_CONTRACT §11)."""
    cfg = sim.cfg
    sim.stats.tokens_issued["app"] += 1
    return {
        "token_type": "Bearer",
        "expires_in": cfg.token_lifetime_s,
        "ext_expires_in": cfg.token_lifetime_s,
        "access_token": sign(sim, sim.api_client.claims(sim, client_id)),
    }
