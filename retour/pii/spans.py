"""Spans of personal data found in a text, and how overlapping findings are settled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Category keys (stored in Feedback.pii_categories) in order of precedence: when findings
# overlap, they are merged into one masked span named after the strongest. Checksummed
# identifiers come first, the writer's own words ("dossier n°") beat a bare Luhn or phone shape.
CATEGORIES: Final = (
    "email",
    "iban",
    "nir",
    "reference",
    "card",
    "phone",
    "plate",
    "birthdate",
    "address",
    "name",
)
RANK: Final = {category: rank for rank, category in enumerate(CATEGORIES)}


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    category: str


def settle(spans: list[Span]) -> list[Span]:
    """Merge overlapping spans, so every character any finding covers stays covered.

    A merged span takes the category of its strongest finding: a chance Luhn match across
    the end of a real NIR widens the mask but does not rename it.
    """
    merged: list[Span] = []
    for span in sorted(spans):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            category = min(last.category, span.category, key=RANK.__getitem__)
            merged[-1] = Span(last.start, max(last.end, span.end), category)
        else:
            merged.append(span)
    return merged
