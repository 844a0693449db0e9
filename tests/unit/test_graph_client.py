"""The Graph client's rules, with a scripted session standing in for the network."""

from __future__ import annotations

import pytest
import requests

from portal.graph.client import (
    backoff_delay,
    error_from_answer,
    parse_retry_after,
)
from portal.graph.errors import GraphError
from tests.support.scripted_graph import Answer, graph_error_body, make_client


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GRAPH_MAX_RETRY_AFTER_SECONDS = 120.0


def test_retry_after_reads_integers_fractions_and_dates_and_is_capped():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.4") == pytest.approx(0.4)
    assert parse_retry_after("9999") == 120.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    assert 0.25 <= backoff_delay(0) <= 0.5
    assert 2.0 <= backoff_delay(3) <= 4.0
    assert backoff_delay(50) <= 30.0


def test_error_bodies_of_any_shape_become_graph_errors():
    good = error_from_answer(403, {"Retry-After": "3"}, graph_error_body("Forbidden", "nope"))
    assert (good.status, good.code, good.message, good.request_id) == (
        403,
        "Forbidden",
        "nope",
        "rid-1",
    )
    assert good.retry_after == 3.0
    for odd in (None, {"error": "text"}, {"error": {"code": 5, "innerError": []}}, ["x"]):
        err = error_from_answer(500, {"request-id": "hdr"}, odd)
        assert err.status == 500 and err.code == "" and err.request_id == "hdr"
    long = error_from_answer(400, {}, graph_error_body("X", "m" * 5000))
    assert len(long.message) == 500


def test_a_throttled_request_waits_for_retry_after_then_succeeds():
    client, session = make_client(
        Answer(429, graph_error_body("TooManyRequests"), {"Retry-After": "1.5"}),
        Answer(200, {"value": []}),
    )
    assert client.get("users") == {"value": []}
    assert client.slept == [1.5]
    assert client.stats.snapshot()["throttled"] == 1
    assert client.stats.snapshot()["retries"] == 1
    assert client.stats.snapshot()["requests"] == 2


def test_without_retry_after_the_client_backs_off_exponentially():
    client, _ = make_client(
        Answer(503), Answer(504), requests.ConnectionError("dropped"), Answer(200, {})
    )
    client.get("users")
    assert len(client.slept) == 3
    assert client.slept[0] <= 0.5 < client.slept[2]


def test_retries_stop_at_the_limit_and_the_failure_is_counted():
    client, session = make_client(*[Answer(503) for _ in range(4)], max_retries=3)
    with pytest.raises(GraphError) as caught:
        client.get("users")
    assert caught.value.status == 503
    assert len(session.sent) == 4
    assert client.stats.snapshot()["failures"] == {"http_503": 1}


def test_a_permanent_error_is_raised_at_once():
    client, session = make_client(Answer(404, graph_error_body("Request_ResourceNotFound")))
    with pytest.raises(GraphError) as caught:
        client.get("users/x")
    assert caught.value.permanent and caught.value.kind == "not_found"
    assert len(session.sent) == 1


def test_a_401_forces_one_token_refresh_and_no_more():
    client, session = make_client(Answer(401), Answer(200, {"ok": True}))
    assert client.get("me") == {"ok": True}
    assert client.token_provider.calls == [False, True]
    assert session.sent[1]["headers"]["Authorization"] == "Bearer token-2"

    client, session = make_client(Answer(401), Answer(401))
    with pytest.raises(GraphError) as caught:
        client.get("me")
    assert caught.value.status == 401 and len(session.sent) == 2


def test_every_request_carries_its_own_client_request_id_and_the_token():
    client, session = make_client(Answer(503), Answer(200, {}))
    client.get("users", params={"$top": 1})
    first, second = (s["headers"] for s in session.sent)
    assert first["client-request-id"] != second["client-request-id"]
    assert first["Authorization"] == "Bearer token-1"
    assert session.sent[0]["url"] == "https://graph.test/v1.0/users"


def test_paging_follows_next_links_verbatim_and_refuses_foreign_hosts():
    next_link = "https://graph.test/v1.0/users?$skiptoken=abc%2F"
    client, session = make_client(
        Answer(200, {"value": [{"id": "1"}], "@odata.nextLink": next_link}),
        Answer(200, {"value": [{"id": "2"}, "junk"]}),
    )
    assert list(client.iter_pages("users")) == [[{"id": "1"}], [{"id": "2"}]]
    assert session.sent[1]["url"] == next_link

    client, _ = make_client(
        Answer(200, {"value": [], "@odata.nextLink": "https://evil.test/v1.0/users"})
    )
    with pytest.raises(GraphError):
        list(client.iter_pages("users"))


def test_batch_matches_answers_by_id_whatever_their_order():
    client, session = make_client(
        Answer(
            200,
            {
                "responses": [
                    {"id": "b", "status": 429, "headers": {"Retry-After": "2"}},
                    {"id": "a", "status": 200, "body": {"value": []}},
                    {"id": "zzz", "status": 200},
                    "junk",
                ]
            },
        )
    )
    items = [{"id": i, "method": "GET", "url": f"/users/{i}"} for i in ("a", "b", "c")]
    out = client.batch(items)
    assert set(out) == {"a", "b"}
    assert out["b"]["headers"]["retry-after"] == "2"
    assert out["a"]["body"] == {"value": []}
    assert session.sent[0]["url"] == "https://graph.test/beta/$batch"
    assert session.sent[0]["json"] == {"requests": items}


def test_batch_refuses_more_than_twenty_items_or_duplicate_ids():
    client, _ = make_client()
    with pytest.raises(ValueError):
        client.batch([{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)])
    with pytest.raises(ValueError):
        client.batch([{"id": "1", "method": "GET", "url": "/me"}] * 2)
