"""Celery tasks of calls: thin, they call one service."""

from celery import shared_task

from calls.services import keepalive


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def keep_calls_alive() -> dict:
    return keepalive.keep_calls_alive()
