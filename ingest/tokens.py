"""Form tokens checked once per process: a token's HMAC is verified on its first use only.

A widget fetches one token per page view and may submit with it several times (retries,
a second submission); itsdangerous re-derives its key and computes two HMACs on every
check (~25-45 us, the costliest step of a submission after masking). Once a token's
signature has been verified, what it says (its procedure and when it was signed) cannot
change, so we remember that and re-check only the expiry and the procedure, exactly as
`FormTokens.check` would. Refused tokens are never remembered.
"""

from __future__ import annotations

import time
from typing import Final

from itsdangerous.encoding import base64_decode, bytes_to_int

from retour.signing import FORM_TOKEN_MAX_AGE, FormTokens, TokenRefused

# Bounded: at this size the cache is emptied (a flood of valid tokens only costs HMACs).
MAX_REMEMBERED: Final = 20_000


class CheckedTokens(FormTokens):
    def __init__(self, secret_key: str, max_age: int = FORM_TOKEN_MAX_AGE) -> None:
        super().__init__(secret_key, max_age)
        self._verified: dict[str, tuple[str, int]] = {}  # token -> (procedure id, signed at)

    def check(self, token: str, procedure_id: str) -> None:
        verified = self._verified.get(token)
        if verified is None:
            super().check(token, procedure_id)  # the signature, the expiry, the procedure
            self._remember(token, procedure_id)
            return
        signed_for, signed_at = verified
        # itsdangerous' own rule: age in whole seconds, refused above max_age or below 0.
        age = int(time.time()) - signed_at
        if age > self.max_age or age < 0:
            del self._verified[token]
            raise TokenRefused("expired")
        if signed_for != procedure_id:
            raise TokenRefused("other-procedure")

    def _remember(self, token: str, procedure_id: str) -> None:
        # The signature is valid, so the token is itsdangerous' `payload.timestamp.signature`.
        signed_at = bytes_to_int(base64_decode(token.rsplit(".", 2)[1]))
        if len(self._verified) >= MAX_REMEMBERED:
            self._verified.clear()
        self._verified[token] = (procedure_id, signed_at)
