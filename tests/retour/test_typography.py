"""French typography: one rule for pages, emails and the widget's texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.widget_routes import source_assets
from retour.i18n import translator
from retour.typography import french_spacing, french_spacing_in_js

NB = "\u202f"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Démarche : carte", f"Démarche{NB}: carte", id="colon"),
        pytest.param("Comment ça va ? Bien !", f"Comment ça va{NB}? Bien{NB}!", id="question"),
        pytest.param("un ; deux", f"un{NB}; deux", id="semicolon"),
        pytest.param("« Envoyer »", f"«{NB}Envoyer{NB}»", id="guillemets"),
        pytest.param("Statut\u00a0: reçu", f"Statut{NB}: reçu", id="nbsp-made-narrow"),
        pytest.param(
            "https://a.fr/x?y=1 16:00", "https://a.fr/x?y=1 16:00", id="no-space-no-change"
        ),
        pytest.param("How did it go? Fine: thanks!", "How did it go? Fine: thanks!", id="english"),
        pytest.param("fin de ligne\n: suite", "fin de ligne\n: suite", id="line-break-kept"),
    ],
)
def test_french_spacing(text: str, expected: str) -> None:
    assert french_spacing(text) == expected
    assert french_spacing(expected) == expected  # applying it twice changes nothing


def test_only_string_literals_of_a_script_change() -> None:
    source = "// the dialog's words : here\nvar a = x ? 'Démarche : ' : \"Vraiment ?\";"
    assert french_spacing_in_js(source) == (
        f"// the dialog's words : here\nvar a = x ? 'Démarche{NB}: ' : \"Vraiment{NB}?\";"
    )


def test_the_translator_applies_it_to_our_french_words_only() -> None:
    french = translator("fr", [ROOT / "console" / "locales"])
    assert french("Statut : {label}", label="a : b") == f"Statut{NB}: a : b"
    english = translator("en", [ROOT / "console" / "locales"])
    assert NB not in english("Statut : {label}", label="Reçu")


def test_the_widget_is_served_with_it() -> None:
    loader, dialog, _css = source_assets(ROOT / "widget" / "src")
    assert f"'Démarche{NB}: '" in dialog
    assert "'Démarche : '" not in dialog
    assert f"hors connexion{NB}: le formulaire" in loader
    built = ROOT / "widget" / "dist" / "dialog.js"
    if built.is_file():
        assert f"Démarche{NB}: " in built.read_text(encoding="utf-8")
