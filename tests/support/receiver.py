"""A local HTTP server standing in for the portal's callback URL: records graphsim's call
notifications and answers them with a chosen status."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
