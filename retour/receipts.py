"""Receipts: short, unguessable codes a citizen uses at /suivi/{receipt} to follow a submission.

Ten characters of Crockford's base32 (50 random bits), shown and stored as `XXXXX-XXXXX`.
The alphabet has no I, L, O or U, so a code read aloud or copied by hand survives:
`normalize_receipt` maps the look-alikes back and puts the dash in place.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH: Final = 10
_LOOKALIKES: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS: Final = re.compile(r"[\s\-_.]+")
_VALID: Final = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_receipt() -> str:
    bits = secrets.randbits(5 * LENGTH)
    chars = [ALPHABET[(bits >> (5 * i)) & 31] for i in range(LENGTH)]
    return _format("".join(chars))


def normalize_receipt(text: str) -> str | None:
    """The canonical `XXXXX-XXXXX` form of what a citizen typed, or None if it cannot be one."""
    compact = _SEPARATORS.sub("", text.strip().upper()).translate(_LOOKALIKES)
    if not _VALID.match(compact):
        return None
    return _format(compact)


def _format(compact: str) -> str:
    half = LENGTH // 2
    return f"{compact[:half]}-{compact[half:]}"
