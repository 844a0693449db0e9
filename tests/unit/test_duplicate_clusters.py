"""scripts/duplicate_clusters.py: pairs joined into clusters by shared or overlapping places."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "duplicate_clusters.py"
spec = importlib.util.spec_from_file_location("duplicate_clusters", SCRIPT)
duplicate_clusters = importlib.util.module_from_spec(spec)
spec.loader.exec_module(duplicate_clusters)

LISTING = """\
5 pairs of places (9 files read), each sharing runs of 6 or more identical lines
D1 a.py:10-20 ~ b.py:40-50 shape (+1 more run)
D2 b.py:45-52 ~ c.py:1-8 shape
D3 d.py:1-6 ~ d.py:30-35 shape boilerplate
D4 e.py:1-9 ~ f.py:1-9
D5 b.py:60-70 ~ g.py:5-15 shape
left out: 1 run of 6 lines that stand in more than 8 places each
"""


def test_pairs_that_share_or_overlap_a_place_are_one_cluster():
    pairs = duplicate_clusters.read_pairs(LISTING.splitlines())
    found = duplicate_clusters.clusters(pairs)
    files = sorted(sorted({place[0] for place in group}) for group in found)
    # b.py:40-50 and b.py:45-52 overlap (a, b, c together); b.py:60-70 touches neither
    assert len(pairs) == 5
    assert files == [["a.py", "b.py", "c.py"], ["b.py", "g.py"], ["d.py"], ["e.py", "f.py"]]
