"""Who may reach each calls URL (the URL x role table). Detail URLs use a call id that does not
exist: roles that may act get 404, which proves they were let through to the lookup."""

from __future__ import annotations

FAKE_CALL = 999_999

_EVERYONE = {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200}
_MISSING = {"anonymous": 302, "none": 404, "helpdesk": 404, "manager": 404, "admin": 404}
_HELPDESK = {"anonymous": 302, "none": 403, "helpdesk": 200, "manager": 403, "admin": 200}
# Starting calls and the person picker: helpdesk, or a delegate whose grant allows makeCalls
# (these roles hold none); the others are told why, without the picker.
_PLACE_CALLS = _HELPDESK
# Graph signs callbacks with a JWT, not a session: no token is 401 for everyone, never a login.
_CALLBACK_POST = {"anonymous": 401, "none": 401, "helpdesk": 401, "manager": 401, "admin": 401}
_CALLBACK_GET = {"anonymous": 405, "none": 405, "helpdesk": 405, "manager": 405, "admin": 405}
_NOT_A_DELEGATE = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 403, "admin": 403}
_BAD_INPUT = {"anonymous": 302, "none": 400, "helpdesk": 400, "manager": 400, "admin": 400}

EXPECTED = [
    ("calls:list", {}, "get", _EVERYONE),
    ("calls:start", {}, "get", _PLACE_CALLS),
    # An empty form comes back with its errors (200), before anything is saved or sent.
    ("calls:start", {}, "post", _PLACE_CALLS),
    ("calls:people", {}, "get", _PLACE_CALLS),
    ("calls:incoming", {}, "get", _HELPDESK),
    ("calls:detail", {"pk": FAKE_CALL}, "get", _MISSING),
    ("calls:live", {"pk": FAKE_CALL}, "get", _MISSING),
    ("calls:transfer", {"pk": FAKE_CALL}, "post", _MISSING),
    ("calls:end", {"pk": FAKE_CALL}, "post", _MISSING),
    ("calls:redirect", {"pk": FAKE_CALL}, "post", {**_HELPDESK, "helpdesk": 404, "admin": 404}),
    ("calls:callback", {}, "post", _CALLBACK_POST),
    ("calls:callback", {}, "get", _CALLBACK_GET),
    # The phone is for delegates with makeCalls: these roles hold no delegation here.
    ("calls:phone", {}, "get", _NOT_A_DELEGATE),
    ("calls:phone_token", {}, "post", _NOT_A_DELEGATE),
    ("calls:phone_consent", {}, "post", _NOT_A_DELEGATE),
    ("calls:phone_report", {}, "post", _BAD_INPUT),
]
