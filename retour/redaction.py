"""Comment hygiene and personal-data masking (interface; the real rules land with the redaction work)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Masked:
    text: str
    categories: frozenset[str]


def clean_comment(raw: str) -> str:
    """NFC-normalise and drop control characters (keeping newlines and tabs)."""
    return unicodedata.normalize("NFC", raw)


def mask(text: str) -> Masked:
    """Replace personal data with category markers."""
    return Masked(text=text, categories=frozenset())
