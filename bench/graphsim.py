"""How many requests per second graphsim sustains.

Starts graphsim (`python -m graphsim --port 0`), then drives it from this process with a small
asyncio HTTP/1.1 client over TLS keep-alive connections (bounded in requests and time, only
127.0.0.1):

1. `--latency-ms 0`, 64 connections in flight: raw throughput.
2. 100 ms latency, 200 requests in flight: the ideal is 200 / 0.1 s = 2000 requests/s; graphsim
   must come close, since each request only sleeps.
3. For information: `$batch` requests of 20 delegates GETs (what the sync sends), in items/s.

Last line: `graphsim rps_latency0=... rps_latency100_inflight200=... ideal_latency100=2000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from graphsim import launcher  # noqa: E402  (bench/ is not a package: find the project first)

DELEGATES = "/communications/callSettings/delegates"


def start(users: int) -> tuple[subprocess.Popen, dict]:
    return launcher.start("--host", "127.0.0.1", "--users", str(users))


class Client:
    def __init__(self, info: dict):
        self.info = info
        u = urlsplit(info["graph"])
        assert u.hostname == "127.0.0.1"
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=info["ca"])

    async def request(
        self, reader, writer, method: str, path: str, headers: dict | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        h = {"Host": f"{self.host}:{self.port}", "Content-Length": str(len(body))}
        h.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        writer.write(head.encode() + b"\r\n" + body)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "content-length":
                length = int(v)
        data = await reader.readexactly(length) if length else b""
        return status, data

    async def connect(self):
        return await asyncio.open_connection(
            self.host, self.port, ssl=self.ctx, server_hostname="127.0.0.1"
        )

    async def once(self, method, path, headers=None, body=b""):
        r, w = await self.connect()
        try:
            return await self.request(r, w, method, path, headers, body)
        finally:
            w.close()

    async def token(self) -> str:
        i = self.info
        from urllib.parse import urlencode

        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": i["client_id"],
                "client_secret": i["client_secret"],
                "scope": "https://graph.microsoft.com/.default",
            }
        ).encode()
        path = urlsplit(i["authority"]).path + "/oauth2/v2.0/token"
        st, data = await self.once(
            "POST", path, {"Content-Type": "application/x-www-form-urlencoded"}, form
        )
        assert st == 200, data
        return json.loads(data)["access_token"]

    async def faults(self, **kw):
        st, data = await self.once(
            "POST", "/_sim/faults", {"Content-Type": "application/json"}, json.dumps(kw).encode()
        )
        assert st == 200, data

    async def load(
        self, token: str, paths: list[str], inflight: int, duration: float, max_requests: int
    ) -> tuple[float, dict]:
        headers = {"Authorization": "Bearer " + token}
        done = 0
        statuses: dict[int, int] = {}
        stop_at = time.monotonic() + duration

        conns = await asyncio.gather(*(self.connect() for _ in range(inflight)))

        async def worker(n):
            nonlocal done
            r, w = conns[n]
            i = n
            try:
                while time.monotonic() < stop_at and done < max_requests:
                    st, _ = await self.request(r, w, "GET", paths[i % len(paths)], headers)
                    statuses[st] = statuses.get(st, 0) + 1
                    done += 1
                    i += 1
            finally:
                w.close()

        # open connections first, so the handshakes are not measured
        t0 = time.monotonic()
        stop_at = t0 + duration
        await asyncio.gather(*(worker(n) for n in range(inflight)))
        elapsed = time.monotonic() - t0
        return done / elapsed, statuses


async def _batch_worker(c, conn, token, ids, start, stop_at, counter):
    r, w = conn
    i = start
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    try:
        while time.monotonic() < stop_at:
            reqs = [
                {
                    "id": str(k),
                    "method": "GET",
                    "url": f"/users/{ids[(i + k) % len(ids)]}{DELEGATES}",
                }
                for k in range(20)
            ]
            st, data = await c.request(
                r, w, "POST", "/beta/$batch", headers, json.dumps({"requests": reqs}).encode()
            )
            if st == 200:
                counter[0] += sum(1 for x in json.loads(data)["responses"] if x["status"] == 200)
            i += 20
    finally:
        w.close()


async def _batch_load(self, token, ids, inflight, duration) -> float:
    conns = await asyncio.gather(*(self.connect() for _ in range(inflight)))
    counter = [0]
    t0 = time.monotonic()
    await asyncio.gather(
        *(
            _batch_worker(self, conns[n], token, ids, n * 20, t0 + duration, counter)
            for n in range(inflight)
        )
    )
    return counter[0] / (time.monotonic() - t0)


Client.batch_load = _batch_load


async def run(args) -> str:
    proc, info = start(args.users)
    try:
        c = Client(info)
        token = await c.token()
        st, data = await c.once(
            "GET", "/v1.0/users?$top=50&$select=id", {"Authorization": "Bearer " + token}
        )
        ids = [u["id"] for u in json.loads(data)["value"]]
        paths = []
        for i, uid in enumerate(ids):
            paths.append(f"/v1.0/users/{uid}?$select=id,displayName,department")
            if i % 5 == 0:
                paths.append("/v1.0/users?$top=20&$select=id,displayName")
        await c.faults(latency_ms=0)
        rps0, st0 = await c.load(token, paths, args.inflight0, args.duration, args.max_requests)
        print(f"latency 0 ms, {args.inflight0} in flight: {rps0:.0f} requests/s {st0}", flush=True)
        await c.faults(latency_ms=100)
        rps100, st100 = await c.load(token, paths, 200, args.duration, args.max_requests)
        print(
            f"latency 100 ms, 200 in flight: {rps100:.0f} requests/s (ideal 2000) {st100}",
            flush=True,
        )
        await c.faults(latency_ms=0, app_delegation_read=True)
        items_ps = await c.batch_load(await c.token(), ids, 16, args.duration)
        print(
            f"latency 0 ms, $batch of 20 delegates GETs, 16 in flight: {items_ps:.0f} items/s",
            flush=True,
        )
        st, data = await c.once("GET", "/_sim/stats")
        peak = json.loads(data)["peak_in_flight"]
        print(f"graphsim peak requests in flight: {peak}")
        return (
            f"graphsim rps_latency0={rps0:.0f} rps_latency100_inflight200={rps100:.0f} "
            f"ideal_latency100=2000"
        )
    finally:
        launcher.stop(proc, info)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    p.add_argument("--max-requests", type=int, default=200_000, help="per phase")
    p.add_argument("--inflight0", type=int, default=64)
    args = p.parse_args(argv)
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
