"""The one folding of text for the people search: what a person's `search_folded` column holds
and what a search term is turned into before it is compared with it. Pure functions, no
database: the sync folds the people it writes (sync/apply_people.py), the model folds the rows
Django writes (DirectoryUser.search_folded), the search folds the term (selectors/people.py).

Folding makes the comparison case- and accent-insensitive the same way on SQLite and PostgreSQL
(neither database's LIKE does it for non-ASCII text): casefold ("ß" -> "ss", "Σ" -> "σ"),
compatibility decomposition (NFKD: "é" -> "e" + accent, "ﬁ" -> "fi"), combining marks dropped,
and a few letters with no decomposition spelt as they are typed on an English keyboard.
"""

from __future__ import annotations

import unicodedata

# Between the folded fields: a search term never holds one (the search keeps printable
# characters only), so "the name is exactly the term" is `LIKE 'term<TAB>%'`.
SEPARATOR = "\t"
# The searched columns, in the order they are folded (the name first: its prefix is the one an
# index range serves).
SOURCES = ("display_name", "upn", "mail", "department", "job_title")
# Bounded so one row always fits a PostgreSQL B-tree entry (2,704 bytes; 4 bytes a character).
FOLDED_MAX = 600
# Letters that are not a base letter plus a mark, so NFKD leaves them whole.
_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)


def _unmarked(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """`text` as the search compares it: case and accents gone, whitespace runs one space."""
    if text.isascii():  # nearly every UPN and mail, most names: the quick way
        return " ".join(text.lower().split())
    # Decompose before and after casefold: each can make what the other must act on.
    folded = _unmarked(_unmarked(text).casefold()).translate(_LETTERS)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in folded).split())


def person_folded(*values: str) -> str:
    """A person's `search_folded`: their SOURCES values (in that order), each folded."""
    return SEPARATOR.join(fold(value or "") for value in values)[:FOLDED_MAX]
