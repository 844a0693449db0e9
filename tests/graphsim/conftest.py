"""Contract suite for graphsim: one real graphsim process over HTTPS, driven with requests and
MSAL (no mocks). Runs without Django: `pytest tests/graphsim -p no:django`."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests

from graphsim import launcher

ROOT = Path(__file__).resolve().parents[2]
REDIRECT = "http://localhost:8765/auth/callback"
DELEGATED = ["User.Read", "User.Read.All", "CallDelegation.Read"]


def launch(*args: str, timeout: float = 30.0):
    proc, info = launcher.start(*args, timeout=timeout)
    info["_proc"] = proc
    return proc, info


def stop(proc, state_dir=None):
    launcher.stop(proc)
    if state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)


def session_for(ca: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA
    s.verify = ca
    return s


class Sim:
    """Test helper around one running graphsim."""

    def __init__(self, info: dict):
        self.info = info
        self.graph = info["graph"]
        self.sim = info["sim"]
        self.ca = info["ca"]
        self.http = session_for(self.ca)
        self._app = None
        self._app_token = None
        self._delegated: dict[tuple, str] = {}

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

    # --------------------------------------------------------------- HTTP
    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = "Bearer " + token
        url = path if path.startswith("https://") else self.graph + path
        return self.http.get(url, headers=headers, timeout=kw.pop("timeout", 10), **kw)

    def post(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = "Bearer " + token
        url = path if path.startswith("https://") else self.graph + path
        return self.http.post(url, headers=headers, timeout=kw.pop("timeout", 10), **kw)

    def hook(self, name: str, body: dict | None = None, method: str = "POST"):
        url = f"{self.sim}/{name}"
        if method == "GET":
            r = self.http.get(url, timeout=30)
        else:
            r = self.http.post(url, json=body or {}, timeout=30)
        return r

    def faults(self, **kw) -> dict:
        r = self.hook("faults", kw)
        assert r.status_code == 200, r.text
        return r.json()

    def truth(self) -> dict:
        return self.hook("truth", method="GET").json()

    def user(self, upn: str) -> dict:
        return self.hook(f"users/{upn}", method="GET").json()


@pytest.fixture(scope="session")
def sim():
    proc, info = launch("--seed", "7", "--users", "300")
    s = Sim(info)
    yield s
    stop(proc, info["_state_dir"])


@pytest.fixture(autouse=True)
def _reset_config(request):
    yield
    if "sim" in request.fixturenames:
        s = request.getfixturevalue("sim")
        s.hook("reset", {"config": True})


@pytest.fixture
def fresh_tenant(sim):
    """Rebuilds the tenant from the seed after the test (for tests that change it)."""
    yield sim
    sim.hook("reset", {"tenant": True, "config": True})


@pytest.fixture(scope="session")
def app_token(sim):
    return sim.app_token()


# ------------------------------------------------------------------- callback receiver
class Receiver:
    def __init__(self, status: int = 202):
        self.events: list[dict] = []
        self.cond = threading.Condition()
        self.status = status
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"null")
                status = outer.status
                with outer.cond:
                    outer.events.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "path": self.path,
                            "answered": status,
                        }
                    )
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def states(self, call_id: str | None = None) -> list[str]:
        out = []
        for e in self.events:
            if e["answered"] >= 500:
                continue
            for n in e["body"]["value"]:
                rd = n["resourceData"]
                if call_id is None or rd["id"] == call_id:
                    out.append(rd["state"])
        return out

    def wait_for(self, pred, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; events: {self.states()}")
                self.cond.wait(left)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
