"""Authenticate the bearer token Graph puts on call notifications (GRAPH_CONTRACT §7).

RS256 with keys published through the OpenID configuration in CALLS_CALLBACK_OPENID_CONFIG
(its `jwks_uri`); issuer one of CALLS_CALLBACK_ISSUERS; audience our client id; `tid` our tenant;
`exp` required, `nbf` checked. Keys are cached per process and fetched again when a token names
a key id we do not know (Microsoft rotates them), at most once per REFRESH_MIN_SECONDS so forged
key ids cannot make us hammer the key endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import jwt
from django.conf import settings

from portal.graph.http import MicrosoftSession

REFRESH_MIN_SECONDS = 10.0
KEYS_MAX_AGE_SECONDS = 24 * 3600.0
LEEWAY_SECONDS = 30  # clock skew between Microsoft and us


class CallbackAuthError(Exception):
    """The notification is not from Graph for us: answer 401, touch nothing."""


@dataclass
class _KeySet:
    keys: dict = field(default_factory=dict)  # kid -> public key
    fetched_at: float = 0.0


_cache: dict[str, _KeySet] = {}
_lock = threading.Lock()


def _fetch_keys(openid_config_url: str) -> dict:
    session = MicrosoftSession()
    try:
        config = session.get(openid_config_url).json()
        jwks = session.get(config["jwks_uri"]).json()
    except Exception as exc:  # any failure to get keys: we cannot authenticate anything
        raise CallbackAuthError(f"signing keys unavailable: {type(exc).__name__}") from exc
    finally:
        session.close()
    keys = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        try:
            keys[jwk["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
        except (ValueError, KeyError, jwt.InvalidKeyError):
            continue
    return keys


def signing_key(url: str, kid: str):
    """The public key `kid` published through the OpenID configuration at `url` (cached per
    URL; also used by api_tokens for our own API's bearer tokens)."""
    with _lock:
        keyset = _cache.setdefault(url, _KeySet())
        now = time.monotonic()
        stale = now - keyset.fetched_at > KEYS_MAX_AGE_SECONDS
        unknown = kid not in keyset.keys
        may_refresh = now - keyset.fetched_at >= REFRESH_MIN_SECONDS or not keyset.fetched_at
        if stale or (unknown and may_refresh):
            keyset.fetched_at = now  # a failed fetch is rate-limited too
            keyset.keys = _fetch_keys(url)
        key = keyset.keys.get(kid)
    if key is None:
        raise CallbackAuthError("unknown signing key")
    return key


def forget_keys() -> None:
    """Drop cached keys (tests; a rotation is handled by the unknown-kid refresh)."""
    with _lock:
        _cache.clear()


def bearer_token(authorization_header: str) -> str:
    scheme, _, token = (authorization_header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CallbackAuthError("no bearer token")
    return token.strip()


def key_of_token(token: str, openid_config_url: str):
    """The published key that should have signed `token` (RS256 only); CallbackAuthError if the
    token is malformed or names no key of that OpenID configuration."""
    if len(token) > 16_384:
        raise CallbackAuthError("token too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise CallbackAuthError("malformed token") from exc
    if header.get("alg") != "RS256":
        raise CallbackAuthError("unexpected algorithm")
    return signing_key(openid_config_url, str(header.get("kid", "")))


def verify_notification_token(token: str) -> dict:
    """The token's claims if Graph signed it for our app and tenant; CallbackAuthError if not."""
    key = key_of_token(token, settings.CALLS_CALLBACK_OPENID_CONFIG)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.MS_CLIENT_ID,
            issuer=list(settings.CALLS_CALLBACK_ISSUERS),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise CallbackAuthError(f"invalid token: {type(exc).__name__}") from exc
    if not settings.MS_TENANT_ID or claims.get("tid") != settings.MS_TENANT_ID:
        raise CallbackAuthError("wrong tenant")
    return claims
