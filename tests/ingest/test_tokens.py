"""Checked form tokens: the cache of verified tokens refuses exactly what FormTokens refuses."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ingest.tokens import CheckedTokens
from retour.signing import FORM_TOKEN_SALT, FormTokens, TokenRefused

SECRET = "a-test-secret-key-that-is-long-enough-0123"


def signed_ago(seconds: int, procedure_id: str = "demarche-a") -> str:
    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return URLSafeTimedSerializer(SECRET, salt=FORM_TOKEN_SALT, signer=Earlier).dumps(procedure_id)


def reason(tokens: FormTokens, token: str, procedure_id: str) -> str:
    try:
        tokens.check(token, procedure_id)
    except TokenRefused as exc:
        return exc.reason
    return "ok"


def test_a_remembered_token_is_still_bound_to_its_procedure() -> None:
    tokens = CheckedTokens(SECRET)
    token = tokens.issue("demarche-a")
    assert reason(tokens, token, "demarche-a") == "ok"
    assert reason(tokens, token, "demarche-a") == "ok"  # from the cache
    assert reason(tokens, token, "demarche-b") == "other-procedure"
    assert reason(tokens, token, "demarche-a") == "ok"


def test_a_remembered_token_still_expires() -> None:
    tokens = CheckedTokens(SECRET, max_age=1000)
    token = signed_ago(500)
    assert reason(tokens, token, "demarche-a") == "ok"
    tokens.max_age = 499  # the token is now older than allowed: time has passed, in effect
    assert reason(tokens, token, "demarche-a") == "expired"
    tokens.max_age = 1000  # forgotten once expired: checked in full again
    assert reason(tokens, token, "demarche-a") == "ok"


@pytest.mark.parametrize(
    ("token", "procedure_id"),
    [
        (FormTokens(SECRET).issue("demarche-a"), "demarche-a"),
        (FormTokens(SECRET).issue("demarche-a"), "demarche-b"),
        (signed_ago(3 * 3600), "demarche-a"),
        (signed_ago(-60), "demarche-a"),  # signed in the future
        (FormTokens("another-secret-key-of-sufficient-length!!").issue("demarche-a"), "demarche-a"),
        ("forged." + "A" * 30, "demarche-a"),
        (FormTokens(SECRET).issue("demarche-a")[:-2] + "xx", "demarche-a"),
    ],
    # Fixed ids: the tokens embed the time, and xdist workers must collect the same tests.
    ids=[
        "valid",
        "other-procedure",
        "expired",
        "from-the-future",
        "other-key",
        "forged",
        "bad-signature",
    ],
)
def test_same_answers_as_form_tokens_first_and_second_time(token: str, procedure_id: str) -> None:
    expected = reason(FormTokens(SECRET), token, procedure_id)
    tokens = CheckedTokens(SECRET)
    assert reason(tokens, token, procedure_id) == expected
    assert reason(tokens, token, procedure_id) == expected
