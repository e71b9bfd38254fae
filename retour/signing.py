"""Signed values, one salt per purpose: a token made for one purpose never works for another."""

from __future__ import annotations

from typing import Any, Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FORM_TOKEN_SALT: Final = "form-token"
SESSION_SALT: Final = "session"
CSRF_SALT: Final = "csrf"
FORM_TOKEN_MAX_AGE: Final = 2 * 60 * 60  # two hours: long enough to write, short enough to expire


class TokenRefused(Exception):
    """A form token that is forged, expired or made for another procedure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


class FormTokens:
    """Tokens that the form endpoint hands out and the feedback endpoint checks."""

    def __init__(self, secret_key: str, max_age: int = FORM_TOKEN_MAX_AGE) -> None:
        self._serializer = serializer(secret_key, FORM_TOKEN_SALT)
        self.max_age = max_age

    def issue(self, procedure_id: str) -> str:
        return self._serializer.dumps(procedure_id)

    def check(self, token: str, procedure_id: str) -> None:
        try:
            signed_for: Any = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired as exc:
            raise TokenRefused("expired") from exc
        except BadSignature as exc:
            raise TokenRefused("forged") from exc
        if signed_for != procedure_id:
            raise TokenRefused("other-procedure")
