"""Finding personal data in free text. `retour.redaction` is the entry point others use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final

from retour.pii.addresses import find_addresses
from retour.pii.contact import find_emails, find_plates
from retour.pii.context import find_birthdates, find_names, find_references
from retour.pii.numbers import find_numbers
from retour.pii.scan import Scan
from retour.pii.spans import CATEGORIES, Span, settle

__all__ = ["BROWSER_CATEGORIES", "CATEGORIES", "Span", "find", "reads"]

Finder = Callable[[Scan], Iterator[Span]]
# Each finder, and the categories it can report.
FINDERS: Final[tuple[tuple[Finder, frozenset[str]], ...]] = (
    (find_emails, frozenset({"email"})),
    (find_numbers, frozenset({"nir", "iban", "card", "phone"})),
    (find_plates, frozenset({"plate"})),
    (find_addresses, frozenset({"address"})),
    (find_birthdates, frozenset({"birthdate"})),
    (find_names, frozenset({"name"})),
    (find_references, frozenset({"reference", "nir"})),
)
# What widget/src/pii.js checks in the browser: the cheap, high-confidence categories.
# The server restricted to these finders must report exactly what the browser reports.
BROWSER_FINDERS: Final = (find_emails, find_numbers)
BROWSER_CATEGORIES: Final = frozenset({"email", "nir", "iban", "card", "phone"})


def find(text: str, *, finders: Iterable[Finder] | None = None) -> list[Span]:
    """Non-overlapping spans of personal data in `text`, in order."""
    return _find(Scan(text), finders)


def reads(text: str) -> int:
    """How many characters `find(text)` reads from its candidates: the deterministic measure
    of its cost that tests bound (see retour.pii.scan)."""
    scan = Scan(text)
    _find(scan, None)
    return scan.reads


def _find(scan: Scan, finders: Iterable[Finder] | None) -> list[Span]:
    chosen = finders if finders is not None else (finder for finder, _ in FINDERS)
    return settle([span for finder in chosen for span in finder(scan)])
