"""Inputs built to make regular expressions backtrack: they must simply finish.

No timing is asserted (bench/redaction.py measures and prints the worst case); a pattern
that backtracked catastrophically would not finish at all on 2,000 characters. That the
cost is linear is counted in test_redaction_cost.py.
"""

from __future__ import annotations

import pytest

from retour.redaction import COMMENT_MAX_LENGTH, mask

N = COMMENT_MAX_LENGTH

ADVERSARIAL = {
    "digits": "1" * N,
    "spaced-digits": "1 " * (N // 2),
    "dotted-digits": "1." * (N // 2),
    "dashed-digits": "1-" * (N // 2),
    "digits-double-spaces": ("12  " * N)[:N],
    "a-at": "a@" * (N // 2),
    "at-dots": ("a@a." * N)[:N],
    "dots": "." * N,
    "spaces": " " * N,
    "letters": "a" * N,
    "word-chars-then-at": "a" * (N - 1) + "@",
    "local-part-dots": ("a." * N)[: N - 6] + "@b.frx",
    "disguised-at": ("a (at) " * N)[:N],
    "disguised-dots": ("a [dot] " * N)[:N],
    "arobase-point": ("x arobase y point " * N)[:N],
    "arobase-dashes": ("arobase-" * N)[:N],
    "iban-like": ("FR76 " * N)[:N],
    "iban-letters": ("AB12 CDEF " * N)[:N],
    "plus-33": ("+33 " * N)[:N],
    "zero-zero": ("0033 6" * N)[:N],
    "zero-zero-dashed": ("0033-" * N)[:N],
    "parentheses-zero": ("+33 (0)" * N)[:N],
    "corsica": ("2A " * N)[:N],
    "plates": ("AB-123-" * N)[:N],
    "addresses": ("12 rue " * N)[:N],
    "address-particles": ("1 rue de la " + "de la " * N)[:N],
    "names": ("je m'appelle " * N)[:N],
    "name-words": "je m'appelle " + ("Jean " * N)[: N - 13],
    "signature": "Cordialement, " + ("Jean " * N)[: N - 14],
    "birthdates": ("né le 1/1/" * N)[:N],
    "references": ("dossier n° " * N)[:N],
    "keywords-in-one-word": ("caf" * N)[: N - 5] + "12345",
    "reference-value": "dossier n° " + ("A1-" * N)[: N - 11],
    "numbering": ("numéro de " * N)[:N],
    "mixed-separators": ("1 .-\u00a0" * N)[:N],
    "nbsp-digits": ("1\u202f" * N)[:N],
    "newlines": ("1\n" * N)[:N],
}


@pytest.mark.parametrize("text", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_adversarial_input_completes(text: str) -> None:
    assert len(text) <= N
    masked = mask(text)
    assert mask(masked.text).text == masked.text
