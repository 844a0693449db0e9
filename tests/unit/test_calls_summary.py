"""What a call page says, from the call's row alone: one line in words, each leg, durations."""

from datetime import UTC, datetime, timedelta

import pytest

from calls import states, summary
from calls.models import Call, CallAction, CallEvent

T0 = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def two_legs(**fields) -> Call:
    values = {
        "mode": Call.Mode.RING_ME_FIRST,
        "first_leg_display": "Hugo Helpdesk",
        "target_display": "Nils Nobody",
        "target_object_id": "callee",
        "callee_leg": states.LEG_WAITING,
        "state": states.ESTABLISHING,
        "created_at": T0,
        "sent_at": T0,
    }
    values.update(fields)
    return Call(**values)


@pytest.fixture(autouse=True)
def utc(settings):
    settings.TIME_ZONE = "UTC"


def test_while_the_acting_person_rings_the_callee_waits():
    s = summary.summarise(two_legs(), now=at(4))
    assert s.line == "Ringing Hugo Helpdesk · Nils Nobody is dialled once they answer"
    first, callee = s.legs
    assert (first.state, first.durations) == ("Ringing", "rang 4 s")
    assert callee.state == "Waiting for you to answer" and callee.durations == ""


def test_talking_shows_how_long_each_leg_rang_and_how_long_they_have_talked():
    call = two_legs(
        state=states.TRANSFER_ACCEPTED,
        answered_at=at(5),
        callee_leg=states.LEG_TALKING,
        callee_rang_at=at(6),
        callee_answered_at=at(9),
    )
    s = summary.summarise(call, now=at(75))
    assert s.status == "Talking" and s.detail == "Hugo Helpdesk and Nils Nobody"
    first, callee = s.legs
    assert first.durations == "rang 5 s · on the line 4 s"
    assert callee.durations == "rang 3 s · talking 1 min 6 s"


def test_once_put_through_the_portals_call_has_ended_and_says_where_the_talk_goes_on():
    call = two_legs(
        state=states.TERMINATED,
        result_code="0",
        result_subcode="7015",
        answered_at=at(5),
        callee_leg=states.LEG_TALKING,
        callee_rang_at=at(6),
        callee_answered_at=at(9),
        ended_at=at(10),
    )
    s = summary.summarise(call, now=at(600))
    assert s.status == "Ended"
    assert "put through to Nils Nobody at 10:00:09" in s.detail and "Teams" in s.detail
    first, callee = s.legs
    assert (first.state, first.detail) == ("Ended", "handed over to Teams")
    assert callee.state == "Talking" and "talking since 10:00:09" in callee.durations


def test_a_failed_put_through_says_why_and_that_the_call_can_be_ended():
    call = two_legs(
        state=states.ESTABLISHED,
        answered_at=at(5),
        callee_leg=states.LEG_FAILED,
        callee_leg_reason="no answer",
        callee_rang_at=at(6),
        callee_ended_at=at(36),
    )
    s = summary.summarise(call, now=at(40))
    assert s.status == "Not put through"
    assert (
        s.detail.startswith("Nils Nobody: no answer; Hugo Helpdesk is still on the line")
        and "end the call" in s.detail
    )
    assert s.legs[1].durations == "rang 30 s"


def test_the_first_leg_unanswered_says_the_callee_was_never_dialled():
    call = two_legs(
        state=states.TERMINATED,
        result_code="408",
        result_subcode="10057",
        callee_leg=states.LEG_NOT_DIALLED,
        ended_at=at(30),
    )
    s = summary.summarise(call, now=at(90))
    assert s.line == "Ended · Nils Nobody was never dialled: Hugo Helpdesk's phone: no answer"
    assert (s.legs[0].state, s.legs[0].detail) == ("Not answered", "no answer")


def test_a_direct_call_that_ended_is_not_ended_twice_over():
    call = Call(
        state=states.TERMINATED,
        result_code="200",
        result_subcode="5001",
        target_display="Nils Nobody",
        created_at=T0,
        answered_at=at(3),
        ended_at=at(65),
    )
    s = summary.summarise(call, now=at(100))
    assert s.line == "Ended · hung up"
    assert s.durations == "rang 3 s · talked 1 min 2 s"


def test_an_incoming_call_says_who_calls_whom():
    call = Call(
        direction=Call.Direction.INCOMING,
        state=states.INCOMING,
        caller_display="Nils Nobody",
        called_display="Bea Boss",
        created_at=T0,
    )
    assert summary.summarise(call).line == "Ringing · Nils Nobody is calling Bea Boss"
    deadline = at(15)
    assert summary.seconds_left(deadline, now=at(4)) == 11
    assert summary.seconds_left(deadline, now=at(40)) == 0


def test_the_timeline_leaves_out_what_changed_nothing_and_names_the_legs():
    call = two_legs(graph_id="491f0b00-ffff-4bc9-a43e-b226498ec22a")  # Graph answered: ringing
    events = [
        CallEvent(state="establishing", applied=True, received_at=at(1)),  # said nothing new
        CallEvent(state="established", applied=True, received_at=at(4)),
        CallEvent(state="establishing", applied=False, received_at=at(5)),
        CallEvent(
            state="established",
            result_code="500",
            result_subcode="7000",
            result_message="The transfer target did not answer.",
            applied=True,
            received_at=at(30),
        ),
    ]
    put_through = CallAction(
        kind=CallAction.Kind.HANDOVER,
        targets=[{"id": "callee", "display": "Nils Nobody"}],
        outcome=CallAction.Outcome.FAILED,
        message="transfer failed",
        created_at=at(4.5),
    )
    words = [entry.words for entry in summary.timeline(call, events, [put_through])]
    assert words == [
        "Ringing Hugo Helpdesk",
        "Hugo Helpdesk answered",
        "Putting the call through to Nils Nobody: failed (transfer failed)",
        'Not put through to Nils Nobody: transfer failed: Microsoft said "The transfer target '
        'did not answer."; Hugo Helpdesk is back on the line',
    ]


@pytest.mark.parametrize(
    "seconds, words", [(0, "0 s"), (59, "59 s"), (60, "1 min 0 s"), (3725, "1 h 2 min")]
)
def test_durations_read_as_people_say_them(seconds, words):
    assert summary.duration(T0, at(seconds)) == words
