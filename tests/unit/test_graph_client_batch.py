"""The $batch delegates fetcher's rules, with a scripted Graph standing in for the network."""

from __future__ import annotations

import json as jsonlib
import threading
import time
import uuid

import pytest
import requests

from portal.graph.client import GraphClient
from portal.graph.delegations import DelegatesFetcher, unpack
from portal.graph.errors import ReconnectNeeded

BASE = "https://graph.test"


def pid(n: int) -> str:
    return str(uuid.UUID(int=n))


class Answer:
    def __init__(self, status, body):
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict({})
        self.content = jsonlib.dumps(body).encode()

    def json(self):
        return jsonlib.loads(self.content)


class ScriptedGraph:
    """A $batch endpoint: `answer(url, attempt)` -> (status, body, headers) for each item."""

    def __init__(self, answer):
        self.answer = answer
        self.batches: list[list[str]] = []
        self.sent_at: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def request(self, method, url, json=None, **kw):
        assert url == f"{BASE}/beta/$batch"
        responses = []
        with self.lock:
            self.batches.append([item["url"] for item in json["requests"]])
        for item in json["requests"]:
            with self.lock:
                times = self.sent_at.setdefault(item["url"], [])
                times.append(time.monotonic())
                attempt = len(times)
            status, body, headers = self.answer(item["url"], attempt)
            responses.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return Answer(200, {"responses": list(reversed(responses))})

    def close(self):
        pass


def delegates(*ids, active=True, actions=None):
    return {
        "value": [
            {"id": i, "isActive": active, "allowedActions": actions or {"receiveCalls": True}}
            for i in ids
        ]
    }


def fetch(answer, people, *, in_flight=2, token=lambda force_refresh=False: "t"):
    graph = ScriptedGraph(answer)
    client = GraphClient(token, base_url=BASE, session=graph, max_retries=3)
    client.sleep = lambda seconds: None
    result = DelegatesFetcher(client, in_flight=in_flight).fetch(people)
    return result, graph, client


def url_of(person: str) -> str:
    return f"/users/{person}/communications/callSettings/delegates"


def test_people_travel_twenty_to_a_batch_and_every_delegate_is_read():
    people = [pid(i) for i in range(1, 46)]

    result, graph, client = fetch(lambda url, attempt: (200, delegates(pid(999)), {}), people)

    assert sorted(len(b) for b in graph.batches) == [5, 20, 20]
    assert result.fetched == set(people) and not result.failed
    assert {(a, b) for a, b, _ in result.grants} == {(p, pid(999)) for p in people}
    assert unpack(result.grants[0][2])[:2] == (True, 0b10)
    assert client.stats.snapshot()["requests"] == 3


def test_a_next_link_is_followed_and_the_pages_add_up():
    boss = pid(1)
    next_link = f"{BASE}/beta{url_of(boss)}?$skiptoken=abc"

    def answer(url, attempt):
        if url == url_of(boss):
            return 200, {**delegates(pid(10), pid(11)), "@odata.nextLink": next_link}, {}
        assert url == url_of(boss) + "?$skiptoken=abc"
        return 200, delegates(pid(12)), {}

    result, graph, _ = fetch(answer, [boss])

    assert sorted(b for _, b, _ in result.grants) == [pid(10), pid(11), pid(12)]
    assert len(graph.batches) == 2


def test_a_next_link_to_another_host_fails_that_person():
    def answer(url, attempt):
        return 200, {**delegates(pid(10)), "@odata.nextLink": "https://evil.test/beta/x"}, {}

    result, _, _ = fetch(answer, [pid(1)])

    assert result.failed == {pid(1): "invalid_link"} and result.grants == []


def test_one_unreadable_item_fails_its_person_only():
    def answer(url, attempt):
        if url == url_of(pid(1)):
            return 200, {"value": [{"id": pid(10), "isActive": "maybe"}]}, {}
        return 200, delegates(pid(10)), {}

    result, _, client = fetch(answer, [pid(1), pid(2)])

    assert result.failed == {pid(1): "invalid_item"}
    assert result.fetched == {pid(2)}
    assert result.invalid_items == 1


def test_403_and_404_fail_their_person_at_once_and_are_counted_by_kind():
    def answer(url, attempt):
        if url == url_of(pid(1)):
            return 403, {"error": {"code": "Forbidden"}}, {}
        if url == url_of(pid(2)):
            return 404, None, {}
        return 200, delegates(), {}

    result, graph, client = fetch(answer, [pid(1), pid(2), pid(3)])

    assert result.failed == {pid(1): "forbidden", pid(2): "not_found"}
    assert len(graph.batches) == 1  # no retry for a permanent answer


def test_only_the_throttled_item_goes_again_after_its_retry_after():
    def answer(url, attempt):
        if url == url_of(pid(2)) and attempt == 1:
            return 429, None, {"Retry-After": "0.3"}
        return 200, delegates(), {}

    result, graph, client = fetch(answer, [pid(1), pid(2), pid(3)])

    assert result.fetched == {pid(1), pid(2), pid(3)}
    assert graph.batches[1] == [url_of(pid(2))]
    first, second = graph.sent_at[url_of(pid(2))]
    assert second - first >= 0.29
    assert client.stats.snapshot()["throttled"] == 1


def test_a_throttled_answer_holds_back_every_new_batch_until_retry_after():
    people = [pid(i) for i in range(1, 41)]

    def answer(url, attempt):
        if url == url_of(pid(1)) and attempt == 1:
            return 429, None, {"Retry-After": "0.4"}
        return 200, delegates(), {}

    started = time.monotonic()
    result, graph, _ = fetch(answer, people, in_flight=1)

    assert len(result.fetched) == 40
    assert min(graph.sent_at[url_of(pid(21))]) - started >= 0.39


def test_transient_item_failures_are_retried_until_the_limit():
    def answer(url, attempt):
        if url == url_of(pid(1)):
            return 503, None, {"Retry-After": "0"}
        if url == url_of(pid(2)) and attempt < 3:
            return 504, None, {"Retry-After": "0"}
        return 200, delegates(), {}

    result, graph, client = fetch(answer, [pid(1), pid(2)])

    assert result.failed == {pid(1): "http_503"}
    assert result.fetched == {pid(2)}
    assert len(graph.sent_at[url_of(pid(1))]) == 3 + 4  # an item gets max_retries + 4 tries


def test_an_item_the_answer_leaves_out_is_sent_again():
    class Forgetful(ScriptedGraph):
        def request(self, method, url, json=None, **kw):
            answer = super().request(method, url, json=json, **kw)
            body = answer.json()
            if len(self.batches) == 1:
                body["responses"] = body["responses"][1:]
            return Answer(200, body)

    graph = Forgetful(lambda url, attempt: (200, delegates(), {}))
    client = GraphClient(lambda force_refresh=False: "t", base_url=BASE, session=graph)
    result = DelegatesFetcher(client, in_flight=1).fetch([pid(1), pid(2)])

    assert result.fetched == {pid(1), pid(2)} and len(graph.batches) == 2


def test_a_batch_failing_as_a_whole_sends_its_items_again_or_fails_them_if_permanent():
    class Failing(ScriptedGraph):
        def __init__(self, status):
            super().__init__(lambda url, attempt: (200, delegates(), {}))
            self.status, self.calls = status, 0

        def request(self, method, url, json=None, **kw):
            self.calls += 1
            if self.calls <= 2:
                return Answer(self.status, {"error": {"code": "x"}})
            return super().request(method, url, json=json, **kw)

    for status, fetched in ((503, {pid(1)}), (400, set())):
        graph = Failing(status)
        client = GraphClient(lambda force_refresh=False: "t", base_url=BASE, session=graph)
        client.sleep = lambda seconds: None
        client.max_retries = 0
        result = DelegatesFetcher(client, in_flight=1, max_attempts=3).fetch([pid(1)])
        assert result.fetched == fetched, status


def test_a_401_item_gets_one_token_refresh():
    tokens = []

    def token(force_refresh=False):
        tokens.append(force_refresh)
        return f"t{len(tokens)}"

    def answer(url, attempt):
        return (401, None, {}) if attempt == 1 else (200, delegates(), {})

    result, _, _ = fetch(answer, [pid(1)], token=token)

    assert result.fetched == {pid(1)}
    assert tokens == [False, True]


def test_a_lost_token_stops_the_fetch():
    def token(force_refresh=False):
        raise ReconnectNeeded("invalid_grant")

    with pytest.raises(ReconnectNeeded):
        fetch(lambda url, attempt: (200, delegates(), {}), [pid(1)], token=token)


def test_items_of_a_failed_batch_come_back_together_not_one_by_one():
    calls, seen = [], set()

    class FailsFirstTries(ScriptedGraph):
        # Each item's first try fails with its whole batch. Failing "the first two requests"
        # instead raced: with two batches in flight, a retry could be sent before the second
        # batch had gone, and take its place among the failures.
        def request(self, method, url, json=None, **kw):
            urls = {item["url"] for item in json["requests"]}
            calls.append(len(urls))
            first_try = not urls & seen
            seen.update(urls)
            if first_try:
                return Answer(503, {"error": {"code": "serviceNotAvailable"}})
            return super().request(method, url, json=json, **kw)

    graph = FailsFirstTries(lambda url, attempt: (200, delegates(), {}))
    client = GraphClient(lambda force_refresh=False: "t", base_url=BASE, session=graph)
    client.max_retries = 0
    result = DelegatesFetcher(client, in_flight=2).fetch([pid(i) for i in range(1, 41)])

    assert len(result.fetched) == 40
    assert calls == [20, 20, 20, 20]
