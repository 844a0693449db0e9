"""All calls: the registry, the HTTP clients that deliver callbacks, and the sweeper that ends
calls nobody kept alive (and forgets old ones)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import httpx

from graphsim.calls.model import Call, call_resource
from graphsim.calls.notify import end_call

SWEEP_EVERY_S = 0.25
KEEP_ENDED_S = 600  # terminated calls are kept 10 minutes (past 1000 of them), then forgotten


class Calls:
    def __init__(self, sim):
        self.sim = sim
        self.calls: dict[str, Call] = {}
        self.active: set[str] = set()  # ids of calls not terminated
        self.ended: dict[str, float] = {}  # id -> when it terminated
        self.rng = random.Random(sim.seed * 131 + 3)
        self.client: httpx.AsyncClient | None = None
        self.client_noverify: httpx.AsyncClient | None = None
        self.sweeper: asyncio.Task | None = None

    def new_id(self) -> str:
        """A call id, deterministic from the seed."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, call: Call) -> None:
        self.calls[call.id] = call
        self.active.add(call.id)

    async def start(self):
        self.sweeper = asyncio.create_task(self._sweep())

    async def stop(self):
        if self.sweeper:
            self.sweeper.cancel()
        for call in self.calls.values():
            call.cancel_tasks()
        for client in (self.client, self.client_noverify):
            if client is not None:
                await client.aclose()

    def http(self) -> httpx.AsyncClient:
        """The client for callbacks: verifying receivers' TLS only with `callback_verify`."""
        if self.sim.cfg.callback_verify:
            if self.client is None:
                self.client = httpx.AsyncClient(timeout=5.0, trust_env=False)
            return self.client
        if self.client_noverify is None:
            self.client_noverify = httpx.AsyncClient(timeout=5.0, verify=False, trust_env=False)  # noqa: S501
        return self.client_noverify

    def reset(self):
        for call in self.calls.values():
            call.cancel_tasks()
        self.calls.clear()
        self.active.clear()
        self.ended.clear()

    async def _sweep(self):
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            now = time.time()
            self._end_abandoned(now)
            if len(self.ended) > 1000:
                self._forget_ended(now)

    def _end_abandoned(self, now: float) -> None:
        keepalive_timeout = self.sim.cfg.keepalive_timeout_s
        for cid in list(self.active):
            call = self.calls[cid]
            if call.state == "incoming" and call.incoming_deadline and now > call.incoming_deadline:
                end_call(self.sim, call, 408, 10057, "The call was not answered in time.")
            elif now - call.last_keepalive > keepalive_timeout and call.state != "incoming":
                end_call(
                    self.sim,
                    call,
                    408,
                    8537,
                    "Call was not kept alive and was ended by the service.",
                )

    def _forget_ended(self, now: float) -> None:
        for cid, at in list(self.ended.items()):
            if now - at > KEEP_ENDED_S and len(self.ended) > 1000:
                self.ended.pop(cid)
                call = self.calls.pop(cid, None)
                if call is not None and call.worker is not None and call.queue.empty():
                    call.worker.cancel()

    def snapshot(self) -> list[dict]:
        """Every call with its history and deliveries, for `/_sim/calls`."""
        out = []
        for call in self.calls.values():
            row = call_resource(call)
            row["history"] = list(call.history)
            row["notifications"] = list(call.notifications)
            row["lastKeepAlive"] = call.last_keepalive
            out.append(row)
        return out
