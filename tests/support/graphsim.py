"""One client for a running graphsim: its Graph API, its sign-in (MSAL) and its /_sim/ test hooks.

`get` and `post` serve both kinds of caller: a path that starts with "/" or "https://" is a Graph
request and returns the `requests.Response`; any other path names a /_sim/ hook and returns its
JSON (raising on an error status). `graph_get`/`graph_post` and `hook_get`/`hook_post` say which
one explicitly. Runs without Django (the contract suite uses it with `-p no:django`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import msal
import requests

REDIRECT = "http://localhost:8765/auth/callback"
DELEGATED = ["User.Read", "User.Read.All", "CallDelegation.Read"]


def session_for(ca: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA
    s.verify = ca
    return s


def _is_graph(path: str) -> bool:
    return path.startswith(("/", "https://"))


class GraphSim:
    """Test helper around one running graphsim (its ready line is `info`)."""

    def __init__(self, info: dict):
        self.info = info
        self.graph = info["graph"]
        self.base = info.get("sim") or info["graph"] + "/_sim"  # the /_sim/ hooks
        self.ca = info["ca"]
        self.http = session_for(self.ca)
        self._delegated: dict[tuple, str] = {}

    @property
    def session(self) -> requests.Session:
        return self.http

    @property
    def sim(self) -> GraphSim:
        """The tenant fixture's client is this same object (it once wrapped a separate one)."""
        return self

    # --------------------------------------------------------------- MSAL
    def msal_app(self) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            self.info["client_id"],
            client_credential=self.info["client_secret"],
            authority=self.info["authority"],
            instance_discovery=False,
            http_client=session_for(self.ca),
        )

    def client_credentials(self, scope: str = "https://graph.microsoft.com/.default"):
        """The raw token endpoint answer to a client-credentials request for `scope`."""
        return self.http.post(
            self.info["authority"] + "/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.info["client_id"],
                "client_secret": self.info["client_secret"],
                "scope": scope,
            },
            timeout=10,
        )

    def app_token(self) -> str:
        r = self.client_credentials()
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def login(self, upn: str, scopes=None, app=None) -> dict:
        """Full MSAL auth-code flow with login_hint; returns MSAL's result."""
        app = app or self.msal_app()
        flow = app.initiate_auth_code_flow(
            scopes or DELEGATED, redirect_uri=REDIRECT, login_hint=upn
        )
        r = self.http.get(flow["auth_uri"], allow_redirects=False, timeout=10)
        assert r.status_code == 302, r.text
        loc = r.headers["location"]
        assert loc.startswith(REDIRECT)
        result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(loc).query)))
        assert "access_token" in result, result
        return result

    def user_token(self, upn: str, scopes=None) -> str:
        key = (upn, tuple(scopes or DELEGATED))
        if key not in self._delegated:
            self._delegated[key] = self.login(upn, scopes)["access_token"]
        return self._delegated[key]

    # --------------------------------------------------------------- Graph
    def graph_get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.graph_request("GET", path, token, **kw)

    def graph_post(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.graph_request("POST", path, token, **kw)

    def graph_request(self, method: str, path: str, token: str | None = None, **kw):
        """A Graph request with `token` as bearer; `path` is below the Graph root or a full URL."""
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = "Bearer " + token
        url = path if path.startswith("https://") else self.graph + path
        return self.http.request(method, url, headers=headers, timeout=kw.pop("timeout", 10), **kw)

    # --------------------------------------------------------------- /_sim/ hooks
    def requests_where(self, route_matches) -> int:
        """How many requests graphsim has answered (any status) on routes ("GET /v1.0/users")
        for which `route_matches(route)` is true."""
        routes = self.get("stats")["routes"]
        return sum(sum(by_status.values()) for r, by_status in routes.items() if route_matches(r))

    def hook(self, name: str, body: dict | None = None, method: str = "POST"):
        """The raw answer of a hook."""
        url = f"{self.base}/{name}"
        if method == "GET":
            r = self.http.get(url, timeout=30)
        else:
            r = self.http.post(url, json=body or {}, timeout=30)
        return r

    def hook_get(self, path: str, **kw):
        resp = self.http.get(f"{self.base}/{path.lstrip('/')}", timeout=30, **kw)
        resp.raise_for_status()
        return resp.json()

    def hook_post(self, path: str, payload=None):
        resp = self.http.post(f"{self.base}/{path.lstrip('/')}", json=payload or {}, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else {}

    def get(self, path: str, token: str | None = None, **kw):
        if _is_graph(path):
            return self.graph_get(path, token, **kw)
        return self.hook_get(path, **kw)

    def post(self, path: str, payload=None, token: str | None = None, **kw):
        if _is_graph(path):
            return self.graph_post(path, token if token is not None else payload, **kw)
        return self.hook_post(path, payload)

    def faults(self, **kw) -> dict:
        r = self.hook("faults", kw)
        assert r.status_code == 200, r.text
        return r.json()

    def truth(self) -> dict:
        return self.hook("truth", method="GET").json()

    def user(self, upn: str) -> dict:
        return self.hook(f"users/{upn}", method="GET").json()

    def change(self, **change) -> dict:
        """Change the tenant (people, delegations) through the `tenant` hook."""
        return self.hook_post("tenant", change)

    def id_of(self, local: str) -> str:
        """The object id of local@contoso.test."""
        return self.hook_get(f"users/{local}@contoso.test")["id"]


def assert_graph_error(r, status, code):
    """`r` is a Graph error of this status and code, in Graph's error shape."""
    assert r.status_code == status, r.text
    assert r.headers.get("request-id")
    e = r.json()["error"]
    assert e["code"] == code, e
    assert e["message"]
    inner = e["innerError"]
    assert inner["request-id"] == r.headers["request-id"]
    assert inner["date"] and inner["client-request-id"]
    return e
