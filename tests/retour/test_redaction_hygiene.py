"""clean_comment: what a stored comment may contain, and nothing else."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retour.redaction import _REMOVED, COMMENT_MAX_LENGTH, clean_comment, comment_too_long


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        pytest.param("ligne 1\r\nligne 2\rligne 3\n", "ligne 1\nligne 2\nligne 3\n", id="newlines"),
        pytest.param("a\tb", "a\tb", id="tab-kept"),
        pytest.param("a\u2028b\u2029c\x85d", "a\nb\nc\nd", id="unicode-line-breaks"),
        pytest.param("pay\u202eelif.exe", "payelif.exe", id="right-to-left-override"),
        pytest.param("\u2066isolé\u2069 \u200eltr\u200f", "isolé ltr", id="isolates-and-marks"),
        pytest.param("\u202a\u202b\u202c\u202d", "", id="embeddings"),
        pytest.param("a\x00b\x07c\x1bd\x7fe\x9bf", "abcdef", id="c0-c1-controls"),
        pytest.param("\ufeffbonjour\u200b !", "bonjour !", id="bom-zero-width"),
        pytest.param("co\u00adopération", "coopération", id="soft-hyphen"),
        pytest.param("e\u0301te\u0301", "été", id="nfc"),
        pytest.param("e\u200b\u0301", "é", id="nfc-after-removal"),
        pytest.param("lone \ud800 surrogate", "lone  surrogate", id="lone-surrogate"),
        pytest.param("1\u00a0234\u202f€ 😀 日本", "1\u00a0234\u202f€ 😀 日本", id="kept-as-is"),
    ],
)
def test_clean_comment(raw: str, clean: str) -> None:
    assert clean_comment(raw) == clean


def test_removed_characters_are_exactly_controls_formats_and_surrogates() -> None:
    # redaction.py lists the Cf ranges by hand (scanning 1.1 M code points at import is slow);
    # this keeps the list in step with the running Python's Unicode database. Characters
    # that a newer Unicode made Cf may still be unassigned (Cn) here.
    every = "".join(chr(code) for code in range(sys.maxunicode + 1))
    removed = set(_REMOVED.findall(every))
    expected = {
        char
        for char in every
        if unicodedata.category(char) in ("Cc", "Cf", "Cs") and char not in "\n\t\r\x85"
    }
    assert expected - removed == set()
    assert {char for char in removed - expected if unicodedata.category(char) != "Cn"} == set()


@settings(deadline=None)
@given(st.text())
def test_clean_comment_is_idempotent_and_leaves_no_controls(raw: str) -> None:
    clean = clean_comment(raw)
    assert clean_comment(clean) == clean
    assert unicodedata.is_normalized("NFC", clean)
    assert "\r" not in clean
    for char in clean:
        assert char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs")


def test_length_rule_counts_the_cleaned_text() -> None:
    assert not comment_too_long("é" * COMMENT_MAX_LENGTH)
    assert comment_too_long("x" * (COMMENT_MAX_LENGTH + 1))
    # Decomposed accents count once they are composed.
    assert not comment_too_long(clean_comment("e\u0301" * COMMENT_MAX_LENGTH))
