"""How many clusters of repeated code a `duplicates` listing holds, and which files each spans.

    duplicates --most 200 --seconds 120 | python scripts/duplicate_clusters.py

`duplicates` (a tool of the team's workplace, not of this project) lists pairs of places that
share six or more lines. A repetition that stands in five places shows as up to ten pairs, so
the pair count grows with the square of a pattern's spread; a cluster counts it once. A cluster
is a connected group of places: two places are joined when a pair names both, or when they
overlap in one file. Prints the pair and cluster counts, then each cluster, largest first.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

ROW = re.compile(r"^D\d+ (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)")

Place = tuple[str, int, int]  # file, first line, last line


def read_pairs(lines) -> list[tuple[Place, Place]]:
    pairs = []
    for line in lines:
        found = ROW.match(line)
        if found:
            a, a1, a2, b, b1, b2 = found.groups()
            pairs.append(((a, int(a1), int(a2)), (b, int(b1), int(b2))))
    return pairs


def clusters(pairs: list[tuple[Place, Place]]) -> list[set[Place]]:
    parent: dict[Place, Place] = {}

    def root(place: Place) -> Place:
        parent.setdefault(place, place)
        while parent[place] != place:
            parent[place] = parent[parent[place]]
            place = parent[place]
        return place

    def join(a: Place, b: Place) -> None:
        parent[root(a)] = root(b)

    by_file: dict[str, set[Place]] = defaultdict(set)
    for a, b in pairs:
        join(a, b)
        by_file[a[0]].add(a)
        by_file[b[0]].add(b)
    for places in by_file.values():
        ordered = sorted(places, key=lambda p: p[1])
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if b[1] > a[2]:
                    break
                join(a, b)
    groups: dict[Place, set[Place]] = defaultdict(set)
    for place in parent:
        groups[root(place)].add(place)
    return sorted(groups.values(), key=len, reverse=True)


def main() -> int:
    pairs = read_pairs(sys.stdin)
    found = clusters(pairs)
    print(f"{len(pairs)} pairs, {len(found)} clusters")
    for group in found:
        files = sorted({place[0] for place in group})
        print(f"{len(group):3d} places: {', '.join(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
