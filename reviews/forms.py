"""Forms of review campaigns: starting one, the queue's filters, a decision on one or many."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from delegation.models import DirectoryUser
from delegation.risk.rules import RULES
from reviews.models import Campaign, CampaignItem

RISK_CHOICES = [(rule_id, rule.label) for rule_id, rule in RULES.items()]
MAX_NAMED = 50


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class StartForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    scope = forms.ChoiceField(choices=Campaign.Scope.choices, label="Which grants")
    department = forms.CharField(
        max_length=256, required=False, label="Department", help_text="For one department"
    )
    risk = forms.ChoiceField(choices=[("", "—"), *RISK_CHOICES], required=False, label="Risk rule")
    reviewers = forms.ChoiceField(choices=Campaign.Reviewers.choices, label="Who reviews")
    named = forms.CharField(
        required=False,
        label="Named reviewers",
        help_text="User principal names, one per line or separated by commas",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_on = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))
    when_unreviewed = forms.ChoiceField(
        choices=Campaign.Unreviewed.choices, label="At closing, grants nobody reviewed"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def clean_due_on(self):
        due = self.cleaned_data["due_on"]
        if due < timezone.localdate():
            raise forms.ValidationError("The due date cannot be in the past.")
        return due

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == Campaign.Scope.DEPARTMENT and not data.get("department"):
            self.add_error("department", "Name the department.")
        if scope == Campaign.Scope.RISK and not data.get("risk"):
            self.add_error("risk", "Choose the risk rule.")
        data["named_people"] = []
        if data.get("reviewers") == Campaign.Reviewers.NAMED:
            data["named_people"] = self._named(data.get("named") or "")
        return data

    def _named(self, text: str) -> list[DirectoryUser]:
        upns = [u.strip().lower() for u in re.split(r"[\s,;]+", text) if u.strip()]
        if not upns:
            self.add_error("named", "Name at least one reviewer.")
            return []
        if len(upns) > MAX_NAMED:
            self.add_error("named", f"Name at most {MAX_NAMED} reviewers.")
            return []
        found = {
            p.upn.lower(): p
            for p in DirectoryUser.objects.filter(
                upn__in=upns, in_directory=True, removed_at__isnull=True, account_enabled=True
            )
        }
        unknown = [u for u in upns if u not in found]
        if unknown:
            self.add_error("named", f"Not in the directory (or disabled): {', '.join(unknown)}")
        return [found[u] for u in dict.fromkeys(upns) if u in found]

    @property
    def scope_value(self) -> str:
        data = self.cleaned_data
        return {"department": data.get("department", ""), "risk": data.get("risk", "")}.get(
            data["scope"], ""
        )


class ReassignForm(forms.Form):
    """Whose undecided grants (a reviewer's pk, or "nobody") go to whom (a UPN)."""

    NOBODY = "nobody"
    source = forms.CharField(max_length=20, label="The undecided grants of")
    to = forms.CharField(max_length=256, label="Go to", help_text="A user principal name")

    def __init__(self, data=None, *, sources: list[tuple[str, str]] = ()):
        super().__init__(data)
        self.sources = dict(sources)
        _styled(self)

    def clean_source(self) -> int | None:
        value = self.cleaned_data["source"]
        if value not in self.sources:
            raise forms.ValidationError("Nobody has undecided grants under that name.")
        return None if value == self.NOBODY else int(value)

    def clean_to(self) -> DirectoryUser:
        upn = self.cleaned_data["to"].strip().lower()
        found = DirectoryUser.objects.filter(
            upn=upn, in_directory=True, removed_at__isnull=True, account_enabled=True
        ).first()
        if found is None:
            raise forms.ValidationError(f"Not in the directory (or disabled): {upn}")
        return found

    def clean(self):
        data = super().clean()
        source, to = data.get("source"), data.get("to")
        if to is not None and source == to.pk:
            raise forms.ValidationError("They are already this person's grants.")
        return data


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("unreviewed", "Not reviewed yet"), ("all", "All")],
        required=False,
        label="Show",
    )
    risk = forms.ChoiceField(choices=[("", "Any risk or none"), *RISK_CHOICES], required=False)
    person = forms.CharField(
        max_length=100, required=False, label="Person", help_text="Start of a name, UPN or mail"
    )
    campaign = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class DecideForm(forms.Form):
    """Several items with one decision and one note, or one row's own button ("id:decision")."""

    item = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    decision = forms.ChoiceField(choices=[("keep", "Keep"), ("revoke", "Revoke")], required=False)
    single = forms.RegexField(regex=r"^\d{1,18}:(keep|revoke)$", required=False)
    note = forms.CharField(max_length=1000, required=False)

    def __init__(self, data=None):
        super().__init__(data)
        # Any ids: which ones the person may decide on is the service's check, item by item.
        self.fields["item"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        data = super().clean()
        single = data.get("single")
        if single:
            pk, decision = single.split(":")
            data["ids"], data["decision"] = [int(pk)], decision
        else:
            data["ids"] = data.get("item") or []
        if not data["ids"]:
            raise forms.ValidationError("Select at least one grant.")
        if data.get("decision") not in (CampaignItem.Decision.KEEP, CampaignItem.Decision.REVOKE):
            raise forms.ValidationError("Choose keep or revoke.")
        return data
