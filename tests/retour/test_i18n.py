"""Counts agree in number, in French and English, through one helper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retour.i18n import plural_translator

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_LOCALES = [ROOT / "console" / "locales"]
CHANGED = ("{n} retour modifié.", "{n} retours modifiés.")


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        pytest.param("fr", 0, "0 retour modifié.", id="fr-zero-is-singular"),
        pytest.param("fr", 1, "1 retour modifié.", id="fr-one"),
        pytest.param("fr", 10, "10 retours modifiés.", id="fr-many"),
        pytest.param("en", 0, "0 feedback items changed.", id="en-zero-is-plural"),
        pytest.param("en", 1, "1 feedback item changed.", id="en-one"),
        pytest.param("en", 10, "10 feedback items changed.", id="en-many"),
    ],
)
def test_the_count_chooses_the_form(locale: str, count: int, expected: str) -> None:
    assert plural_translator(locale, CONSOLE_LOCALES)(*CHANGED, count) == expected


def test_the_count_shown_may_be_formatted_and_french_typography_applies() -> None:
    plural = plural_translator("fr", CONSOLE_LOCALES)
    text = plural("{n} ignoré : non.", "{n} ignorés : non.", 12345, n="12\u202f345")
    assert text == "12\u202f345 ignorés\u202f: non."


def test_a_plural_missing_from_the_english_catalog_falls_back_to_french() -> None:
    plural = plural_translator("en", CONSOLE_LOCALES)
    assert plural("{n} chose", "{n} choses", 2) == "2 choses"


def test_no_interface_text_writes_a_plural_in_brackets() -> None:
    # « retour(s) » and its kind: the plural helper says it properly. Templates and catalogs
    # are all interface; in Python, the French words (the command line speaks English).
    anywhere = re.compile(r"\w\((s|x|es)\)")
    french = re.compile(r"(retour|nouveau|autre|ignoré|courriel|démarche)\w*\((s|x)\)")
    offenders = []
    for folder in ("console", "retour", "ingest"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".html", ".json", ".py") or "node_modules" in path.parts:
                continue
            pattern = french if path.suffix == ".py" else anywhere
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
