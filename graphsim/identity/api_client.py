"""The second app registration (GRAPH_CONTRACT §11): an automation client that calls the portal's
own API. Client credentials with scope `<our application ID URI>/.default` give it an app-only
token for our API: `aud` our application ID URI, the v2 issuer, the app roles our registration
defines and grants to it, signed with the tenant's keys.

A person can also let the client act as them (the auth-code flow, as with any registered web
app): asking for `<our application ID URI>/access_as_user`, the delegated scope our registration
exposes, gives a delegated token for our API with `scp` that scope and the person's own `oid`."""

from __future__ import annotations

import hashlib
import time
import uuid

from graphsim.keys import b64u

# The app roles the portal's registration defines; graphsim grants those of the setting
# `api_client_roles` (all by default) to the client.
API_ROLES = ("Delegation.Read.All", "Delegation.ReadWrite.All", "Calls.Initiate")
# The delegated scope the portal's registration exposes (consented for the tenant).
USER_SCOPE = "access_as_user"


class ApiClient:
    def __init__(self, seed: int, portal_client_id: str):
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"graphsim:{seed}")
        self.client_id = str(uuid.uuid5(ns, "api-client"))
        digest = hashlib.sha256(f"graphsim-api-secret:{seed}".encode()).digest()
        self.client_secret = "gs8Q~" + b64u(digest)[:35]
        self.object_id = str(uuid.uuid5(uuid.NAMESPACE_OID, self.client_id))
        self.app_id_uri = f"api://{portal_client_id}"
        self.scope = f"{self.app_id_uri}/.default"
        self.user_scope = f"{self.app_id_uri}/{USER_SCOPE}"

    def secret_of(self, client_id: str) -> str | None:
        return self.client_secret if client_id == self.client_id else None

    def wants_our_api(self, scope: str) -> bool:
        return scope.strip().lower() == self.scope.lower()

    def delegated_scopes(self, scope: str) -> list[str] | None:
        """Our API's delegated scopes asked for (`.default` is all of them: `access_as_user`),
        or None when `scope` names no scope of our API."""
        prefix = self.app_id_uri.lower() + "/"
        asked = [name[len(prefix) :] for name in scope.split() if name.lower().startswith(prefix)]
        if not asked:
            return None
        return [USER_SCOPE] if any(n in (".default", USER_SCOPE) for n in asked) else []

    def claims(self, sim, client_id: str) -> dict:
        """An app-only token for the portal's API; roles only for the automation client."""
        now = int(time.time())
        oid = str(uuid.uuid5(uuid.NAMESPACE_OID, client_id))
        return {
            **self._common(sim, now),
            "oid": oid,
            "sub": oid,
            "azp": client_id,
            "appid": client_id,
            "idtyp": "app",
            "roles": self._granted(sim) if client_id == self.client_id else [],
        }

    def delegated_claims(self, sim, user, client_id: str, scopes: list[str]) -> dict:
        """A person's token for the portal's API, held by `client_id`: `scp` the scopes granted,
        `roles` the person's app role assignments on the portal's registration."""
        now = int(time.time())
        claims = {
            **self._common(sim, now),
            "oid": user.id,
            "sub": b64u(hashlib.sha256(f"{user.id}:{self.app_id_uri}".encode()).digest()),
            "azp": client_id,
            "azpacr": "1",
            "scp": " ".join(scopes),
            "name": user.displayName,
            "preferred_username": user.userPrincipalName,
        }
        if user.roles:
            claims["roles"] = list(user.roles)
        return claims

    @staticmethod
    def _granted(sim) -> list[str]:
        return [role for role in API_ROLES if role in sim.cfg.api_client_roles]

    def _common(self, sim, now: int) -> dict:
        return {
            "aud": self.app_id_uri,
            "iss": f"{sim.base}/{sim.tenant.tenant_id}/v2.0",
            "iat": now,
            "nbf": now - 5,
            "exp": now + sim.cfg.token_lifetime_s,
            "tid": sim.tenant.tenant_id,
            "ver": "2.0",
        }
