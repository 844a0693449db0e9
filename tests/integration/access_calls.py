"""Who may reach each calls URL (the URL x role table). Detail URLs use a call id that does not
exist: roles that may act get 404, which proves they were let through to the lookup."""

from __future__ import annotations

from tests.support.access import FAKE_PK, NOT_FOUND, SIGNED_IN, codes, everyone

_HELPDESK = codes(302, 403, 200, 403, 200)
# Starting calls and the person picker: helpdesk, or a delegate whose grant allows makeCalls
# (these roles hold none); the others are told why, without the picker.
_PLACE_CALLS = _HELPDESK
# Graph signs callbacks with a JWT, not a session: no token is 401 for everyone, never a login.
_CALLBACK_POST = everyone(401)
_CALLBACK_GET = everyone(405)
_NOT_A_DELEGATE = codes(302, 403, 403, 403, 403)
_BAD_INPUT = codes(302, 400, 400, 400, 400)

EXPECTED = [
    ("calls:list", {}, "get", SIGNED_IN),
    ("calls:start", {}, "get", _PLACE_CALLS),
    # An empty form comes back with its errors (200), before anything is saved or sent.
    ("calls:start", {}, "post", _PLACE_CALLS),
    ("calls:people", {}, "get", _PLACE_CALLS),
    ("calls:incoming", {}, "get", _HELPDESK),
    ("calls:detail", {"pk": FAKE_PK}, "get", NOT_FOUND),
    ("calls:live", {"pk": FAKE_PK}, "get", NOT_FOUND),
    ("calls:transfer", {"pk": FAKE_PK}, "post", NOT_FOUND),
    ("calls:end", {"pk": FAKE_PK}, "post", NOT_FOUND),
    ("calls:redirect", {"pk": FAKE_PK}, "post", {**_HELPDESK, "helpdesk": 404, "admin": 404}),
    ("calls:callback", {}, "post", _CALLBACK_POST),
    ("calls:callback", {}, "get", _CALLBACK_GET),
    # The phone is for delegates with makeCalls: these roles hold no delegation here.
    ("calls:phone", {}, "get", _NOT_A_DELEGATE),
    ("calls:phone_token", {}, "post", _NOT_A_DELEGATE),
    ("calls:phone_consent", {}, "post", _NOT_A_DELEGATE),
    ("calls:phone_report", {}, "post", _BAD_INPUT),
]
