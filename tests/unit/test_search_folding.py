"""The people search's folding (delegation/folding.py): pure, so the sync and the search fold
alike without a database."""

from __future__ import annotations

import pytest

from delegation.folding import FOLDED_MAX, SEPARATOR, SOURCES, fold, person_folded


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Zoë", "zoe"),
        ("ZOË", "zoe"),
        ("Ångström", "angstrom"),
        ("Müller", "muller"),
        ("straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Çağla Dóra", "cagla dora"),
        ("Søren Łukasz", "soren lukasz"),
        ("ﬁnn", "finn"),  # a compatibility ligature
        ("  Anna \u00a0 Berg ", "anna berg"),  # whitespace runs, a no-break space
    ],
)
def test_names_fold_to_what_people_type(written, typed):
    assert fold(written) == typed
    assert fold(typed) == typed  # folding the term again changes nothing


def test_scripts_without_case_or_accents_are_kept():
    assert fold("ليلى حداد") == "ليلى حداد"
    assert fold("נועה כהן") == "נועה כהן"


def test_a_persons_folded_value_holds_each_field_in_order():
    folded = person_folded("Zoë Ångström", "Zoe.Angstrom@Contoso.test", "", "Forschung", None)
    assert folded.split(SEPARATOR) == [
        "zoe angstrom",
        "zoe.angstrom@contoso.test",
        "",
        "forschung",
        "",
    ]
    assert len(SOURCES) == 5


def test_no_field_can_forge_a_separator_and_the_value_is_bounded():
    assert SEPARATOR not in fold("a\tb\nc")
    assert len(person_folded("ﷺ" * 256, "x" * 256, "y" * 256, "z" * 256, "w" * 256)) == FOLDED_MAX
