"""Comment hygiene and personal-data masking, applied before anything is stored.

`clean_comment` makes the text safe to keep and show (no invisible or direction-changing
characters, one kind of newline, NFC); `mask` replaces personal data with fixed French
markers. The rules themselves live in `retour.pii`; docs/privacy.md explains them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from retour.pii import BROWSER_CATEGORIES, BROWSER_FINDERS, CATEGORIES, Span, find

__all__ = [
    "BROWSER_CATEGORIES",
    "CATEGORIES",
    "COMMENT_MAX_LENGTH",
    "MARKERS",
    "MASK_GROWTH_BOUND",
    "Masked",
    "browser_categories",
    "clean_comment",
    "comment_too_long",
    "mask",
]

# Longer comments are refused (422). Defined here, not in retour.models, so that the ingest's
# writer process can mask without importing SQLAlchemy (0.65 s).
COMMENT_MAX_LENGTH: Final = 2000

# One fixed marker per category: staff learn what was there, never its length or shape.
MARKERS: Final = {
    "email": "[adresse e-mail masquée]",
    "phone": "[téléphone masqué]",
    "nir": "[numéro de sécurité sociale masqué]",
    "iban": "[IBAN masqué]",
    "card": "[carte bancaire masquée]",
    "plate": "[immatriculation masquée]",
    "address": "[adresse postale masquée]",
    "birthdate": "[date de naissance masquée]",
    "name": "[nom masqué]",
    "reference": "[numéro de dossier masqué]",
}
assert set(MARKERS) == set(CATEGORIES)
# The shortest maskable text is an address like "a@b.fr" (6 characters) whose marker has 24:
# a masked comment is never more than 4 times as long as the original.
MASK_GROWTH_BOUND: Final = 4
# Each pass removes personal data, and markers are inert, so passes stop quickly; the cap
# only bounds the cost of a contrived text.
_MAX_PASSES: Final = 6
_SEPARATORS: Final = frozenset(" \u00a0\u2009\u202f.-\u2010\u2011\u2013")

# Characters removed from comments: C0/C1 controls except tab and newline (Cc), format
# characters (Cf: bidirectional overrides and isolates, zero-width characters, soft hyphen,
# BOM, tags) and lone surrogates (Cs, which no database can store). The Cf list is Unicode
# 15's; tests/retour/test_redaction_hygiene.py checks it against the running unicodedata.
_FORMAT_RANGES: Final = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_REMOVED: Final = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f{_FORMAT_RANGES}\ud800-\udfff]"
)
# Every other way of ending a line becomes "\n": CRLF, CR, NEL, line and paragraph separators.
_NEWLINES: Final = re.compile("\r\n?|[\x85\u2028\u2029]")


@dataclass(frozen=True)
class Masked:
    text: str
    categories: frozenset[str]

    @property
    def categories_text(self) -> str:
        """The form stored in `Feedback.pii_categories`: sorted keys, space-separated."""
        return " ".join(sorted(self.categories))


def clean_comment(raw: str) -> str:
    """Newlines unified, control and format characters removed (tab and newline kept), NFC."""
    text = _NEWLINES.sub("\n", raw)
    text = _REMOVED.sub("", text)
    # NFC last: removing a zero-width character may bring a letter and its accent together.
    return unicodedata.normalize("NFC", text)


def comment_too_long(cleaned: str) -> bool:
    """The length rule ingest enforces (422) on the cleaned, not yet masked, comment."""
    return len(cleaned) > COMMENT_MAX_LENGTH


def mask(text: str) -> Masked:
    """Replace personal data with category markers; idempotent.

    Removing a span can change what its neighbours look like (a number glued to a masked
    card starts a word once the card is gone), so masking repeats until nothing more is
    found; the second pass almost always finds nothing.
    """
    categories: set[str] = set()
    for _ in range(_MAX_PASSES):
        spans = find(text)
        if not spans:
            break
        categories.update(span.category for span in spans)
        again = any(_touches_more(text, span) for span in spans)
        text = _replace(text, spans)
        if not again:
            break
    return Masked(text=text, categories=frozenset(categories))


def _touches_more(text: str, span: Span) -> bool:
    """Whether a span is glued to what follows or precedes it (a letter, a digit, "+", or a
    separator then a digit), the only case where masking it may change how its
    neighbours read. A span between spaces and words, the usual case, needs no second pass."""
    before = text[span.start - 2 : span.start]
    after = text[span.end : span.end + 2]
    for near, far in ((before[-1:], before[:1]), (after[:1], after[1:])):
        if near.isalnum() or near == "+" or (near in _SEPARATORS and far.isdigit()):
            return True
    return False


def _replace(text: str, spans: list[Span]) -> str:
    parts: list[str] = []
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(MARKERS[span.category])
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def browser_categories(text: str) -> frozenset[str]:
    """What widget/src/pii.js must report for `text`: the server's own cheap finders."""
    return frozenset(span.category for span in find(text, finders=BROWSER_FINDERS))
