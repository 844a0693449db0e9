"""graphsim's fast JSON encoder writes what the standard library writes (GRAPHSIM_PURE=1)."""

from __future__ import annotations

import pytest

from graphsim import answers
from graphsim.tenant.demo import build_demo
from graphsim.tenant.model import USER_PROPS


def _payloads():
    tenant = build_demo(n_users=40)
    people = [tenant.users[uid].to_graph(USER_PROPS) for uid in tenant.order]
    yield {"@odata.context": "x", "value": people}  # a page, plans included
    yield {"responses": [{"id": "1", "status": 200, "headers": {}, "body": {"value": []}}]}
    yield {"error": {"code": "x", "message": 'Zoë\'s "quote" \\ \u2028 \u00e9\u4e2d\U0001f600'}}
    yield {1: True, "n": None, "f": 0.1, "big": 2**53, "neg": -7, "t": (1, 2)}  # odd corners


@pytest.mark.parametrize("payload", list(_payloads()), ids=["page", "batch", "text", "corners"])
def test_the_fast_encoder_writes_the_stdlib_bytes(payload, monkeypatch):
    monkeypatch.delenv("GRAPHSIM_PURE", raising=False)
    fast = answers._fast_dumps()
    assert fast is not answers.stdlib_dumps
    assert fast(payload) == answers.stdlib_dumps(payload)


def test_graphsim_pure_uses_the_stdlib(monkeypatch):
    monkeypatch.setenv("GRAPHSIM_PURE", "1")
    assert answers._fast_dumps() is answers.stdlib_dumps
