"""Tokens from Microsoft Entra ID, through MSAL, and nowhere else (GRAPH_CONTRACT §1).

Three kinds of token, each behind a provider `provider(force_refresh=False) -> str`:
- app-only (client credentials) for calls and, where the tenant allows it, the sync;
- the sync account's delegated token, and a signed-in person's: `DelegatedTokens` over a
  `CacheStore` the portal supplies (`portal/token_store.py` keeps the caches, encrypted);
And the auth-code flow the sign-in and the sync-account connection go through.

Nothing here logs or audits a token, a code or a secret.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

import msal
import requests
from django.conf import settings
from msal.exceptions import MsalError

from portal.graph.errors import NotConfigured, ReconnectNeeded, TokenError, TokenUnavailable
from portal.graph.http import MicrosoftSession

log = logging.getLogger(__name__)

TokenProvider = Callable[..., str]

# OAuth errors that only a person signing in again can cure (contract §1).
RECONNECT_ERRORS = frozenset({"invalid_grant", "interaction_required"})

# MSAL recommends form_post; we use query on purpose (see start_auth_code_flow).
warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")

_app_only_lock = threading.Lock()
_app_only_clients: dict[tuple, msal.ConfidentialClientApplication] = {}
_per_thread = threading.local()


# --- Building the MSAL client ---------------------------------------------------------------
def _config() -> tuple[str, str, str]:
    # Read at call time: tests point the portal at graphsim through the settings fixture.
    values = {
        "MS_AUTHORITY": settings.MS_AUTHORITY,
        "MS_CLIENT_ID": settings.MS_CLIENT_ID,
        "MS_CLIENT_SECRET": settings.MS_CLIENT_SECRET,
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise NotConfigured("these settings are missing: " + ", ".join(missing))
    return values["MS_AUTHORITY"], values["MS_CLIENT_ID"], values["MS_CLIENT_SECRET"]


def _client_key() -> tuple:
    authority, client_id, secret = _config()
    # A digest, not the secret itself: this key may appear in a traceback.
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return (authority, client_id, digest, settings.GRAPH_CA_BUNDLE, settings.MS_INSTANCE_DISCOVERY)


class _DiscoveryOnlyCache(dict):
    """MSAL's HTTP cache, keeping discovery documents (GET) and never token answers (POST).

    MSAL 1.39 keys a throttled token answer (5xx, 429) without the auth code: its
    `_extract_data(kwargs, "refresh_token", default=code)` returns None, not the code. A shared
    cache holding POST answers would refuse everyone's sign-in for 5 s after one failure. An
    entry refused here is a cache miss for MSAL (KeyError on read).
    """

    def __setitem__(self, key, value):
        if isinstance(key, str) and key.startswith("POST "):
            return
        super().__setitem__(key, value)


def _thread_http_cache() -> dict:
    """The discovery cache shared by this thread's delegated clients.

    Each delegated operation builds its own client around one person's token cache; sharing this
    spares a discovery request per client. Per thread, because MSAL locks each client's view of
    the dict separately.
    """
    cache = getattr(_per_thread, "http_cache", None)
    if cache is None:
        cache = _per_thread.http_cache = _DiscoveryOnlyCache()
    return cache


def _build_client(token_cache=None, http_cache=None) -> msal.ConfidentialClientApplication:
    authority, client_id, secret = _config()
    try:
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=secret,
            authority=authority,
            # Entra ID knows its own authorities; a private one (graphsim) must skip discovery.
            instance_discovery=settings.MS_INSTANCE_DISCOVERY,
            # Our session: verify=<our CA> and a timeout on every call (REQUESTS_CA_BUNDLE trap).
            http_client=MicrosoftSession(),
            token_cache=token_cache,
            http_cache=http_cache,
        )
    except (requests.RequestException, MsalError) as exc:
        raise TokenUnavailable(
            f"the sign-in authority could not be reached ({type(exc).__name__})"
        ) from None
    except ValueError:
        # MSAL's way of saying the discovery document was missing or unusable.
        raise TokenUnavailable("the sign-in authority answered no usable configuration") from None


def _delegated_client(token_cache) -> msal.ConfidentialClientApplication:
    return _build_client(token_cache, http_cache=_thread_http_cache())


def _app_only_client(*, renew: bool = False) -> msal.ConfidentialClientApplication:
    """One client per process and configuration: MSAL serves its cached app token from it."""
    key = _client_key()
    with _app_only_lock:
        client = None if renew else _app_only_clients.get(key)
        if client is None:
            client = _build_client()
            _app_only_clients[key] = client
        return client


def _call_msal(operation, *args, **kwargs) -> dict:
    """Run one MSAL call; transport failures become TokenUnavailable."""
    try:
        return operation(*args, **kwargs) or {}
    except (requests.RequestException, MsalError) as exc:
        # MsalError here is MSAL's wrapper of an HTTP 5xx from the token endpoint.
        raise TokenUnavailable(
            f"the token endpoint could not be used ({type(exc).__name__})"
        ) from None


def _describe(result: dict) -> str:
    """The OAuth error and its AADSTS codes: safe to show and store (never a token)."""
    codes = ",".join(str(c) for c in result.get("error_codes") or [])
    return f"{result.get('error', 'no token')}{' (AADSTS ' + codes + ')' if codes else ''}"


def _token_from(result: dict) -> str:
    if result.get("access_token"):
        return result["access_token"]
    if result.get("error") in RECONNECT_ERRORS:
        raise ReconnectNeeded(f"a new sign-in is needed: {_describe(result)}")
    raise TokenUnavailable(f"no token: {_describe(result)}")


# --- App-only tokens --------------------------------------------------------------------------
def app_scopes() -> list[str]:
    return [settings.GRAPH_SCOPE_PREFIX + ".default"]


def app_token_provider() -> TokenProvider:
    """App-only Graph token (client credentials). MSAL caches it and renews it 5 minutes early."""

    def provider(force_refresh: bool = False) -> str:
        # MSAL refuses force_refresh for client credentials; a new client has an empty cache.
        client = _app_only_client(renew=force_refresh)
        return _token_from(_call_msal(client.acquire_token_for_client, app_scopes()))

    return provider


# --- Delegated tokens from a stored MSAL cache ----------------------------------------------
class CacheStore(Protocol):
    """Where the portal keeps one account's MSAL cache (encrypted, in its own tables).

    `load` answers the serialised cache (raising ReconnectNeeded when it is unusable), `save`
    keeps a cache MSAL refreshed, `failed` hears every token error (to mark or record it)."""

    def load(self) -> str: ...

    def save(self, serialized: str) -> None: ...

    def failed(self, error: TokenError) -> None: ...


def holds_refresh_token(serialized: str) -> bool:
    cache = msal.SerializableTokenCache()
    cache.deserialize(serialized)
    return bool(list(cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)))


class DelegatedTokens:
    """A provider of one stored account's delegated token: its cache is loaded once and MSAL
    serves the access token from memory until it is due; a refreshed cache is saved back.

    `is_account(msal_account)` picks the account in the cache; `owner` names whose cache it is
    in the errors ("the sync account's token cache")."""

    def __init__(self, store: CacheStore, scopes, is_account: Callable[[dict], bool], owner: str):
        self.store = store
        self.scopes = list(scopes)
        self.is_account = is_account
        self.owner = owner
        self.lock = threading.Lock()  # the sync may share the provider between threads
        self.cache = None
        self.client = None

    def __call__(self, force_refresh: bool = False) -> str:
        return _token_from(self._answer(force_refresh))

    def refreshed_claims(self) -> dict:
        """Redeem the refresh token now; the new id token's claims ({} if Microsoft sent none).
        What Entra ID says of the person today (enabled, roles, groups), not at sign-in.
        Raises TokenError, or SignInFailed for claims not meant for us."""
        claims = self._answer(force_refresh=True).get("id_token_claims") or {}
        return _checked_claims(claims) if claims else {}

    def _answer(self, force_refresh: bool) -> dict:
        """MSAL's answer holding a token, else its TokenError (heard by the store first); a
        cache MSAL refreshed (it used the refresh token) is saved back."""
        with self.lock:
            try:
                result = self._result(force_refresh)
                _token_from(result)
            except TokenError as exc:
                self.store.failed(exc)
                raise
            if self.cache.has_state_changed:
                self.cache.has_state_changed = False
                self.store.save(self.cache.serialize())
            return result

    def _result(self, force_refresh: bool) -> dict:
        if self.client is None:
            serialized = self.store.load()
            self.cache = msal.SerializableTokenCache()
            if serialized:
                self.cache.deserialize(serialized)
            self.client = _delegated_client(self.cache)
        account = next((a for a in self.client.get_accounts() if self.is_account(a)), None)
        if account is None:
            raise ReconnectNeeded(f"{self.owner} holds no account")
        result = _call_msal(
            self.client.acquire_token_silent_with_error,
            self.scopes,
            account,
            force_refresh=force_refresh,
        )
        if not result:
            raise ReconnectNeeded(f"{self.owner} holds no usable token")
        return result


# --- The sync account ---------------------------------------------------------------------
# The portal says where the sync account's cache lives (PortalConfig.ready): this package may
# not read the portal's tables itself.
_sync_account_store: Callable[[], tuple[CacheStore, str]] | None = None


def use_sync_account_store(factory: Callable[[], tuple[CacheStore, str]]) -> None:
    """`factory()` answers the sync account's store and its home account id, or raises
    NotConfigured when no sync account is connected."""
    global _sync_account_store
    _sync_account_store = factory


def sync_token_provider() -> TokenProvider:
    """The token the delegation sync acts with: app-only where allowed, else the sync account's."""
    if settings.SYNC_USE_APP_ONLY:
        return app_token_provider()
    if _sync_account_store is None:
        raise NotConfigured("no store for the sync account's tokens is set")
    store, home_account_id = _sync_account_store()
    return DelegatedTokens(
        store,
        settings.SYNC_SCOPES,
        lambda account: account.get("home_account_id") == home_account_id,
        owner="the sync account's token cache",
    )


# --- The auth-code flow (sign-in, and connecting the sync account) --------------------------
class SignInFailed(Exception):
    """The auth-code flow did not end with a usable id token. `reason` is for the page and audit:
    state, nonce, denied, rejected, unavailable, not_configured, claims."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SignInResult:
    claims: dict  # id token claims: tid, oid, name, preferred_username, roles, groups
    home_account_id: str
    serialized_cache: str  # the person's MSAL cache: store it encrypted, never show it


def start_auth_code_flow(
    redirect_uri: str, scopes: list[str], *, login_hint: str = "", prompt: str | None = None
) -> dict:
    """MSAL's flow (state, nonce, PKCE); keep it server-side and send the browser to auth_uri."""
    client = _delegated_client(msal.SerializableTokenCache())
    return client.initiate_auth_code_flow(
        list(scopes),
        redirect_uri=redirect_uri,
        login_hint=login_hint or None,
        prompt=prompt,
        # query, not form_post: a cross-site POST would arrive without our Lax session cookie.
        response_mode="query",
    )


def finish_auth_code_flow(flow: dict, auth_response: dict) -> SignInResult:
    """Redeem the code. Raises SignInFailed; never returns without verified claims."""
    error = auth_response.get("error")
    if error:
        raise SignInFailed("denied" if error == "access_denied" else "rejected", str(error)[:100])
    cache = msal.SerializableTokenCache()
    try:
        client = _delegated_client(cache)
        result = _call_msal(client.acquire_token_by_auth_code_flow, flow, auth_response)
    except NotConfigured as exc:
        raise SignInFailed("not_configured", str(exc)) from None
    except TokenUnavailable as exc:
        raise SignInFailed("unavailable", str(exc)) from None
    except (ValueError, RuntimeError) as exc:
        # MSAL 1.39 raises ValueError for a state mismatch or a non-JSON answer, and
        # RuntimeError for an id token whose nonce is not the SHA-256 of ours.
        text = str(exc).lower()
        reason = "nonce" if "nonce" in text else "state" if "state" in text else "unavailable"
        raise SignInFailed(reason, type(exc).__name__) from None
    if result.get("error"):
        transient = result.get("error") in ("temporarily_unavailable", "server_error")
        raise SignInFailed("unavailable" if transient else "rejected", _describe(result))
    claims = _checked_claims(result.get("id_token_claims") or {})
    account = next(
        (a for a in client.get_accounts() if a.get("local_account_id") == claims["oid"]), None
    )
    home_account_id = (account or {}).get("home_account_id") or f"{claims['oid']}.{claims['tid']}"
    return SignInResult(claims, home_account_id, cache.serialize())


def _checked_claims(claims: dict) -> dict:
    # MSAL checks state and nonce only; the token came straight from the token endpoint over
    # TLS, so audience and tenant are what remain to check (OpenID Connect Core §3.1.3.7).
    if not claims.get("oid") or not claims.get("tid"):
        raise SignInFailed("claims", "the id token has no oid or tid")
    if claims.get("aud") != settings.MS_CLIENT_ID:
        raise SignInFailed("claims", "the id token is for another application")
    # Always our own tenant: with "common"/"organizations" (or no tenant set) anyone from any
    # tenant could sign in, carrying app roles they assigned themselves in their own tenant.
    tenant = settings.MS_TENANT_ID
    if not tenant or tenant in ("common", "organizations", "consumers"):
        raise SignInFailed("claims", "MS_TENANT_ID does not name one tenant")
    if claims["tid"] != tenant:
        raise SignInFailed("claims", "the id token is from another tenant")
    return claims


def logout_url(post_logout_redirect_uri: str) -> str:
    """The authority's end_session_endpoint, with our page to come back to (URL-encoded)."""
    authority, _, _ = _config()
    endpoint = _end_session_endpoint(authority)
    return f"{endpoint}?{urlencode({'post_logout_redirect_uri': post_logout_redirect_uri})}"


def _end_session_endpoint(authority: str) -> str:
    fallback = f"{authority.rstrip('/')}/oauth2/v2.0/logout"  # Entra ID's documented path
    discovery = f"{authority.rstrip('/')}/v2.0/.well-known/openid-configuration"
    try:
        # Short: a person waits on this to be signed out, and the fallback is fine.
        with MicrosoftSession(timeout=min(5.0, settings.GRAPH_TIMEOUT_SECONDS)) as session:
            resp = session.get(discovery)
        if resp.ok:
            return resp.json().get("end_session_endpoint") or fallback
    except (requests.RequestException, ValueError):
        pass  # signing out locally matters more than the authority's page
    return fallback
