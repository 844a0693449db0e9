"""Delegate writes through Graph: the bodies we send, and what each failure means."""

import pytest
import requests

from portal.graph import delegation_writes as writes
from portal.graph.errors import GraphError, GraphUnavailable
from tests.support.factories import allowed
from tests.support.scripted_graph import Answer, graph_error_body, make_client

ANN = "aaaaaaaa-0000-0000-0000-000000000001"
BOB = "bbbbbbbb-0000-0000-0000-000000000002"
ALL_FIVE = {
    "make_calls": True,
    "receive_calls": True,
    "manage_settings": False,
    "pick_up_held_calls": False,
    "join_active_calls": True,
}


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GRAPH_MAX_RETRY_AFTER_SECONDS = 120.0


def test_an_add_body_names_the_delegate_all_five_graph_keys_and_is_active():
    assert writes.add_body(BOB, ALL_FIVE) == {
        "id": BOB,
        "allowedActions": {
            "makeCalls": True,
            "receiveCalls": True,
            "manageCallAndDelegateSettings": False,
            "pickUpHeldCalls": False,
            "joinActiveCalls": True,
        },
        "isActive": True,
    }


def test_an_add_without_all_five_actions_is_a_programming_error():
    with pytest.raises(ValueError, match="missing: join_active_calls"):
        writes.add_body(BOB, {k: v for k, v in ALL_FIVE.items() if k != "join_active_calls"})


def test_an_update_sends_only_what_it_is_given():
    assert writes.update_body({"manage_settings": True}) == {
        "allowedActions": {"manageCallAndDelegateSettings": True}
    }
    assert writes.update_body({}, is_active=False) == {"isActive": False}
    with pytest.raises(ValueError, match="change something"):
        writes.update_body({})


def test_an_unknown_action_name_is_refused():
    with pytest.raises(ValueError, match="fly"):
        writes.update_body({"fly": True})


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (405, "", writes.WriteRefused),
        (501, "NotImplemented", writes.WriteRefused),
        (403, "Forbidden", writes.WriteRefused),
        (400, "BadRequest", writes.WriteRefused),
        (400, "LimitExceeded", writes.WriteRejected),
        (400, "delegatesLimitReached", writes.WriteRejected),
        (400, "delegatorsLimitReached", writes.WriteRejected),
        (400, "invalidRequest", writes.WriteRejected),
        (404, "Request_ResourceNotFound", writes.WriteRejected),
        (409, "Conflict", writes.WriteRejected),
        (401, "InvalidAuthenticationToken", writes.WriteRejected),
        (0, "", writes.WriteOutcomeUnknown),
        (408, "", writes.WriteOutcomeUnknown),
        (429, "TooManyRequests", writes.WriteOutcomeUnknown),
        (500, "", writes.WriteOutcomeUnknown),
        (503, "", writes.WriteOutcomeUnknown),
        (504, "", writes.WriteOutcomeUnknown),
    ],
)
def test_each_failure_is_classified_by_what_the_caller_must_do(status, code, kind):
    classified = writes.classify(GraphError("no", status=status, code=code, request_id="r1"))
    assert type(classified) is kind
    assert (classified.status, classified.code, classified.request_id) == (status, code, "r1")


def test_an_object_id_is_checked_before_it_enters_a_url():
    client, session = make_client()
    with pytest.raises(ValueError, match="not an object id"):
        writes.remove_delegate(client, ANN, "../../me")
    assert session.sent == []


def test_an_add_posts_to_the_delegators_beta_delegates_and_returns_graphs_request_id():
    client, session = make_client(Answer(201, {"id": BOB}, {"request-id": "rid-9"}))
    assert writes.add_delegate(client, ANN, BOB, ALL_FIVE) == "rid-9"
    [sent] = session.sent
    assert sent["method"] == "POST"
    assert (
        sent["url"] == f"https://graph.test/beta/users/{ANN}/communications/callSettings/delegates"
    )
    assert sent["json"]["id"] == BOB


def test_an_add_that_gets_no_clear_answer_is_never_sent_twice():
    client, session = make_client(Answer(503), Answer(201))
    with pytest.raises(writes.WriteOutcomeUnknown):
        writes.add_delegate(client, ANN, BOB, ALL_FIVE)
    assert len(session.sent) == 1


def test_a_dropped_connection_on_remove_leaves_the_outcome_unknown():
    client, session = make_client(requests.ConnectionError("reset"))
    with pytest.raises(writes.WriteOutcomeUnknown) as caught:
        writes.remove_delegate(client, ANN, BOB)
    assert isinstance(caught.value.__cause__, GraphUnavailable)
    assert session.sent[0]["method"] == "DELETE"
    assert session.sent[0]["url"].endswith(f"/delegates/{BOB}")


def test_a_patch_gives_the_same_result_twice_so_it_keeps_the_clients_retries():
    client, session = make_client(Answer(503), Answer(200, {}))
    writes.update_delegate(client, ANN, BOB, {"make_calls": False})
    assert [s["method"] for s in session.sent] == ["PATCH", "PATCH"]


def test_a_tenant_refusing_writes_says_so_with_graphs_words():
    client, _ = make_client(Answer(405, graph_error_body("MethodNotAllowed", "not here")))
    with pytest.raises(writes.WriteRefused, match="not here"):
        writes.add_delegate(client, ANN, BOB, ALL_FIVE)


def item(delegate_id, **actions):
    return {"id": delegate_id, "isActive": True, "allowedActions": actions}


def test_reading_a_delegators_delegates_gives_snapshots_by_delegate_id():
    client, _ = make_client(
        Answer(200, {"value": [item(BOB.upper(), makeCalls=True)], "@odata.nextLink": (
            f"https://graph.test/beta/users/{ANN}/communications/callSettings/delegates?p=2"
        )}),
        Answer(200, {"value": []}),
    )  # fmt: skip
    delegates = writes.read_delegates(client, ANN)
    assert delegates == {BOB: allowed("make_calls")}


@pytest.mark.parametrize(
    "body", [{}, {"value": "nope"}, {"value": [{"id": BOB, "allowedActions": {"makeCalls": 1}}]}]
)
def test_an_answer_that_cannot_be_read_whole_is_an_error_not_an_empty_list(body):
    client, _ = make_client(Answer(200, body))
    with pytest.raises(GraphError, match="cannot read"):
        writes.read_delegates(client, ANN)
