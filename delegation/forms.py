"""Forms of the dashboards: the organisation table's filters, a grant review, and the one
parser of a keyset cursor (a row id) from a query string."""

from __future__ import annotations

import re

from django import forms

from delegation.selectors.grants import SORTS
from portal import allowed_actions

SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "delegator": "Delegator name",
    "delegate": "Delegate name",
    "department": "Department",
    "changed": "Last changed",
}

# ASCII digits, bounded: "²" is isdigit() yet not int(), 5,000 digits raise ValueError, and 19
# or more can overflow the database's 64-bit integer.
_ROW_ID = re.compile(r"[0-9]{1,18}")


def row_id(query, name: str) -> int | None:
    """The row id `query` (request.GET) holds under `name`, or None when absent or not one."""
    value = query.get(name) or ""
    return int(value) if _ROW_ID.fullmatch(value) else None


class DelegationFilterForm(forms.Form):
    person = forms.CharField(
        required=False, max_length=100, label="Person", help_text="Start of a name, UPN or mail"
    )
    department = forms.CharField(required=False, max_length=256, label="Department")  # delegator's
    action = forms.ChoiceField(
        required=False,
        label="Allowed action",
        choices=[("", "Any action")] + [(a.field, a.label) for a in allowed_actions.ACTIONS],
    )
    active = forms.ChoiceField(
        required=False,
        label="State",
        choices=[("", "Active or not"), ("yes", "Active"), ("no", "Inactive")],
    )
    sort = forms.ChoiceField(
        required=False, label="Sort by", choices=[(k, SORT_LABELS[k]) for k in SORTS]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters_and_page(self) -> tuple[dict[str, str], int]:
        """Validate the query string and return its filters (the valid, non-empty ones: for the
        selector and the export link) and the page number (1 unless a valid one was asked).

        A field that does not validate is left out; its error stays on the form, where the
        page shows it and the export refuses to run."""
        if not self.is_bound:
            return {}, 1
        self.is_valid()  # validates once; cleaned_data then holds the fields that passed
        data = {k: v for k, v in self.cleaned_data.items() if k != "page"}
        data["person"] = " ".join((data.get("person") or "").split())
        return {k: v for k, v in data.items() if v}, self.cleaned_data.get("page") or 1
