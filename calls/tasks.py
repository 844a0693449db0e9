"""Celery tasks of calls: thin, they call one service. Services queue them by name after the
transaction that recorded the call or action commits (portal.queue.enqueue)."""

from celery import shared_task

from calls.services import keepalive, send, start


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def place_call(call_pk: int) -> None:
    start.place_call(call_pk)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def send_action(action_pk: int) -> None:
    send.send_action(action_pk)


# Its counts are kept as the task's result: what the round did, for whoever asks (the tests).
@shared_task(soft_time_limit=240, time_limit=300)
def keep_calls_alive() -> dict:
    return keepalive.keep_calls_alive()
