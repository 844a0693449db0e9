"""The Delegation model spells the five allowed actions out (migrations need literal fields);
they must stay the one table's fields, in its order."""

from delegation.models import Delegation
from portal import allowed_actions


def test_the_delegation_model_has_exactly_the_tables_action_fields_in_order():
    booleans = [
        f.name
        for f in Delegation._meta.get_fields()
        if f.get_internal_type() == "BooleanField" and f.name != "is_active"
    ]
    assert tuple(booleans) == allowed_actions.FIELDS
