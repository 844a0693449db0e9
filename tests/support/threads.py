"""Races on purpose: run the same work in threads released together, as two workers would."""

from __future__ import annotations

import threading

from django.db import connection


def at_once(work, *arguments) -> None:
    """Call `work(argument)` for each argument (or `work()` twice without any), each in its own
    thread, all released at the same moment; each thread's database connection is closed."""
    calls = [(a,) for a in arguments] or [(), ()]
    start = threading.Barrier(len(calls))

    def run(*args):
        start.wait()
        try:
            work(*args)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
