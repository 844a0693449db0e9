"""Graph's call-notification tokens: only RS256 from the published keys, for our app and tenant."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.graph import callback_auth
from portal.graph.callback_auth import CallbackAuthError, verify_notification_token

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


GRAPH_KEY = new_key()
ROTATED_KEY = new_key()
FORGER_KEY = new_key()


@pytest.fixture
def published(settings, monkeypatch):
    settings.MS_TENANT_ID = TENANT
    settings.MS_CLIENT_ID = CLIENT
    settings.CALLS_CALLBACK_OPENID_CONFIG = "https://keys.example/openid"
    settings.CALLS_CALLBACK_ISSUERS = [
        "https://graph.microsoft.com",
        "https://api.botframework.com",
    ]
    keys = {"k1": GRAPH_KEY.public_key()}
    fetches = []

    def fetch(url):
        fetches.append(url)
        return dict(keys)

    monkeypatch.setattr(callback_auth, "_fetch_keys", fetch)
    callback_auth.forget_keys()
    yield keys, fetches
    callback_auth.forget_keys()


def token(key=GRAPH_KEY, kid="k1", alg="RS256", **overrides):
    now = int(time.time())
    claims = {
        "iss": "https://graph.microsoft.com",
        "aud": CLIENT,
        "tid": TENANT,
        "iat": now,
        "nbf": now - 60,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def test_a_token_graph_signed_for_our_app_and_tenant_is_accepted(published):
    assert verify_notification_token(token())["tid"] == TENANT
    assert verify_notification_token(token(iss="https://api.botframework.com"))


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda: token(key=FORGER_KEY), id="bad signature"),
        pytest.param(lambda: token(aud="someone-else"), id="wrong audience"),
        pytest.param(lambda: token(tid="99999999-0000-0000-0000-000000000000"), id="wrong tenant"),
        pytest.param(lambda: token(tid=None), id="no tenant"),
        pytest.param(lambda: token(iss="https://evil.example"), id="wrong issuer"),
        pytest.param(lambda: token(exp=int(time.time()) - 600), id="expired"),
        pytest.param(lambda: token(exp=None), id="no expiry"),
        pytest.param(lambda: token(nbf=int(time.time()) + 600), id="not yet valid"),
        pytest.param(
            lambda: token(key="shared-secret-of-32-bytes-or-more!!", alg="HS256"), id="hs256"
        ),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
    ],
)
def test_forged_tokens_are_refused(published, forged):
    with pytest.raises(CallbackAuthError):
        verify_notification_token(forged())


def test_keys_are_fetched_once_and_cached(published):
    _, fetches = published
    verify_notification_token(token())
    verify_notification_token(token())
    assert len(fetches) == 1


def test_a_rotated_key_is_fetched_when_a_token_names_an_unknown_kid(published, monkeypatch):
    keys, fetches = published
    verify_notification_token(token())
    monkeypatch.setattr(callback_auth, "REFRESH_MIN_SECONDS", 0.0)
    keys["k2"] = ROTATED_KEY.public_key()
    assert verify_notification_token(token(key=ROTATED_KEY, kid="k2"))
    assert len(fetches) == 2


def test_unknown_kids_cannot_make_us_refetch_keys_in_a_loop(published):
    _, fetches = published
    verify_notification_token(token())
    for n in range(5):
        with pytest.raises(CallbackAuthError):
            verify_notification_token(token(key=FORGER_KEY, kid=f"forged-{n}"))
    assert len(fetches) == 1


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer ", "Bearer"])
def test_a_request_without_a_bearer_token_is_refused(header):
    with pytest.raises(CallbackAuthError):
        callback_auth.bearer_token(header)


def test_bearer_token_is_read_from_the_header():
    assert callback_auth.bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
