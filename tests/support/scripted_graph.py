"""The Graph client with a scripted session standing in for the network: canned answers in,
requests and sleeps recorded."""

from __future__ import annotations

import json as jsonlib

import requests

from portal.graph.client import GraphClient


class Answer:
    def __init__(self, status=200, body=None, headers=None, raw=None):
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})
        if raw is not None:
            self.content = raw
        else:
            self.content = b"" if body is None else jsonlib.dumps(body).encode()

    def json(self):
        return jsonlib.loads(self.content)


class ScriptedSession:
    """Answers requests from a script; records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, **kw):
        self.sent.append({"method": method, "url": url, **kw})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


class Tokens:
    def __init__(self):
        self.calls = []

    def __call__(self, force_refresh=False):
        self.calls.append(force_refresh)
        return f"token-{len(self.calls)}"


def make_client(*answers, max_retries=3):
    session = ScriptedSession(*answers)
    client = GraphClient(
        Tokens(), base_url="https://graph.test", session=session, max_retries=max_retries
    )
    client.slept = []
    client.sleep = client.slept.append
    return client, session


def graph_error_body(code, message="no", request_id="rid-1"):
    return {"error": {"code": code, "message": message, "innerError": {"request-id": request_id}}}
