"""A call as graphsim keeps it, and how Graph shows one."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import NamedTuple

CONNECTED_STATES = ("established", "hold", "transferring", "transferAccepted")
NOT_ANSWERING = ("noanswer", "unreachable")  # callBehavior of people who never pick up


class Call:
    def __init__(self, cid: str):
        self.id = cid
        self.state = "establishing"
        self.direction = "outgoing"
        self.callback_uri = ""
        self.targets: list = []
        self.source: dict | None = None
        self.modalities = ["audio"]
        self.media_config: dict = {}
        self.tenant_id = ""
        self.result_info: dict | None = None
        self.created = time.time()
        self.last_keepalive = time.time()
        self.subject = None
        self.history: list[str] = []  # states in the order they happened
        self.notifications: list[dict] = []  # delivery log
        self.queue: asyncio.Queue = asyncio.Queue()
        self.worker: asyncio.Task | None = None
        self.tasks: list[asyncio.Task] = []
        self.incoming_deadline: float | None = None
        self.incoming_context: dict | None = None  # whom an incoming call was for
        self.app_instance = False
        self.chain_id = str(uuid.uuid4())

    @property
    def active(self) -> bool:
        return self.state != "terminated"

    def cancel_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.worker:
            self.worker.cancel()


class Target(NamedTuple):
    """Who a call goes to: ("user", object id) or ("phone", E.164 number)."""

    kind: str
    ref: str


def result_info(code: int, subcode: int, message: str) -> dict:
    return {
        "@odata.type": "#microsoft.graph.resultInfo",
        "code": code,
        "subcode": subcode,
        "message": message,
    }


def call_resource(call: Call, full: bool = True) -> dict:
    """The call as Graph shows it (`full=False`: what later notifications carry)."""
    out = {
        "@odata.type": "#microsoft.graph.call",
        "id": call.id,
        "state": call.state,
        "direction": call.direction,
        "resultInfo": call.result_info,
        "callChainId": call.chain_id,
    }
    if full:
        out.update(
            {
                "callbackUri": call.callback_uri,
                "source": call.source,
                "targets": call.targets,
                "requestedModalities": call.modalities,
                "mediaConfig": call.media_config,
                "tenantId": call.tenant_id,
                "myParticipantId": str(uuid.uuid5(uuid.NAMESPACE_OID, call.id)),
                "subject": call.subject,
            }
        )
        if call.incoming_context:
            out["incomingContext"] = call.incoming_context
    return out


def entity_context(ctx) -> str:
    return f"{ctx.base}/{ctx.version}/$metadata#communications/calls/$entity"
