"""Masking's cost is linear in the text's length, whatever the text.

Counted, not timed: `retour.pii.reads` is how many characters one pass of the finders reads
from its candidates (digit runs, "00", "+", keywords); the passes over the whole text around
them are a fixed number (retour/pii/scan.py), and `mask` makes at most a fixed number of
passes. A finder that re-reads the rest of a run for each of its groups, or walks back over
a whole word for each keyword in it, makes this count grow with the square of the length,
which these tests catch. bench/redaction.py prints what the worst of these inputs costs.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from retour.pii import reads
from retour.redaction import COMMENT_MAX_LENGTH, MARKERS, mask

N = COMMENT_MAX_LENGTH
# Reads allowed per character of text. The worst inputs found read under 30 a character
# ("0033 " repeated: each "00" reads the 64 characters after its calling code); before
# that read was bounded, the same text read 400 a character at 2,000, and more beyond.
READS_PER_CHARACTER = 40
# Short texts: a candidate's bounded reads (an IBAN's 34 characters and their groups…).
READS_FLOOR = 400

# Adversarial alphabets: pieces that wake one family of finders, mixed with the
# separators those finders accept. Drawing from one family at a time makes the dense,
# regular texts that cost the most far likelier than drawing from all at once.
SEPARATORS = (" ", "  ", ".", "-", " - ", " .", "\u00a0", "\u202f", "\u2009", "\u2013", "\n", ",")
ALPHABETS = {
    "digits": (*"0123456789", *SEPARATORS, "2A", "2B", "/"),
    "calling codes": ("00", "0033", "+33", "+", "33", "262", "689", "(0)", "0", "6", *SEPARATORS),
    "iban": ("FR76", "FR", "GB", "2A", "A", "x", *"0123456789", " ", "  ", "-", "\u00a0"),
    "e-mail": ("@", "a", "a.", "(at)", "[dot]", "arobase", "point", "fr", ".fr", "<", " ", "."),
    "words": (
        "caf", "dossier", "DOSSIER", "n°", "réf", "sécu", "nir", "numéro", "1", "12345", "A",
        "rue", "12 rue", "bis", "de la", "Jean", "Paris", "75002", "né le", "1/1/", "nom :",
        "je m'appelle", "Cordialement", "a", "é", "€", *SEPARATORS,
    ),
    "markers": (*MARKERS.values(), "1", "0", "a", "+", " ", "-"),  # a second pass's text
}  # fmt: skip


@st.composite
def adversarial_text(draw: st.DrawFn) -> str:
    tokens = st.sampled_from(ALPHABETS[draw(st.sampled_from(sorted(ALPHABETS)))])
    if draw(st.booleans()):
        # A short unit repeated to the full length, then a few pieces (the digits a context
        # finder waits for): the most regular texts, which are the costliest.
        unit = "".join(draw(st.lists(tokens, min_size=1, max_size=4)))
        tail = "".join(draw(st.lists(tokens, max_size=4)))
        return (unit * N)[: N - len(tail)] + tail
    return "".join(draw(st.lists(tokens, min_size=1, max_size=800)))[:N]


def reads_allowed(text: str) -> int:
    return READS_PER_CHARACTER * len(text) + READS_FLOOR


@settings(max_examples=300, deadline=None)
@given(adversarial_text())
@example(("0033-" * N)[:N])  # the case: "00" at each group re-read the rest of the run
@example(("0033 " * N)[:N])
@example(("33 00" * N)[:N])
@example(("caf" * N)[: N - 5] + "12345")  # a keyword at each 3rd letter of one long word
@example(("FR7633 " * N)[:N])
def test_reads_at_most_a_constant_per_character(text: str) -> None:
    assert reads(text) <= reads_allowed(text)


@pytest.mark.parametrize(
    "unit",
    ["0033-", "0033 6", "+33 ", "00-", "1-", "1 ", "FR76 ", "2A ", "dossier", "nirnir", "a@"],
)
def test_four_times_the_text_at_most_about_four_times_the_reads(unit: str) -> None:
    # The same unit at 500 and 2,000 characters: linear means about 4 times the reads.
    short, long = (unit * N)[: N // 4 - 5] + "12345", (unit * N)[: N - 5] + "12345"
    assert reads(long) <= 5 * reads(short) + READS_FLOOR


def test_reads_count_what_masking_does() -> None:
    # The counter is the finders' own: text with candidates in it reads something.
    assert reads("Le bouton ne marche pas.") == 0
    text = "Rappelez-moi au 06 12 34 56 78, dossier n° 2024123456."
    assert reads(text) > 0
    assert mask(text).categories == {"phone", "reference"}
