"""A shorter GIL switch interval while threads wait on Microsoft.

A thread whose answer came in must take the GIL back from whichever thread holds it (another
parsing a page, the caller's loop writing rows), and CPython hands it over only at its switch
interval: 5 ms by default, a twentieth of a 100 ms round trip, added to every round trip of
every worker. Measured with bench/sync.py (docs/architecture.md, the sync).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

SWITCH_INTERVAL_S = 0.0005


@contextlib.contextmanager
def quick_thread_switches() -> Iterator[None]:
    """The process's switch interval at SWITCH_INTERVAL_S at most, set back afterwards."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
