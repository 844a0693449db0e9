"""Local HTTP(S) servers that stand in for a URL the portal posts to: graphsim's call
notifications (`Receiver`, plain HTTP) and Teams webhooks (`Receiver(tls=True)`: HTTPS with a
certificate from a test CA, `ca_path` to trust). Each records what it was sent and answers with a
chosen status; `fail_next` scripts answers (429 with Retry-After, 503) before it recovers."""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(self, status: int = 202, *, tls: bool = False, path: str = "/callbacks"):
        self.events: list[dict] = []
        self.cond = threading.Condition()
        self.status = status
        self.script: list[tuple[int, dict]] = []  # answers to give first, in order
        self.ca_path = ""
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"null")
                with outer.cond:
                    status, headers = outer.script.pop(0) if outer.script else (outer.status, {})
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
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        scheme = "http"
        if tls:
            scheme = "https"
            self._wrap_tls()
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _wrap_tls(self) -> None:
        import trustme

        authority = trustme.CA(organization_name="webhook receiver test CA")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        self._dir = tempfile.TemporaryDirectory()
        self.ca_path = str(Path(self._dir.name) / "ca.pem")
        authority.cert_pem.write_to_path(self.ca_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def fail_next(self, *answers: tuple[int, dict]) -> None:
        """Answer the next requests with these (status, headers), then with `status` again."""
        with self.cond:
            self.script.extend(answers)

    def answered(self, status: int) -> list[dict]:
        return [e for e in self.events if e["answered"] == status]

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
                    raise AssertionError(f"timed out; events: {len(self.events)}")
                self.cond.wait(left)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        if self.ca_path:
            self._dir.cleanup()
