"""French collation: accents, case and ligatures do not decide the order."""

from __future__ import annotations

from retour.collation import french_key


def test_accented_capitals_sort_among_their_letter() -> None:
    names = [
        "Ministère de l'Intérieur",
        "Ministère de l'Éducation nationale",
        "Ministère de l'Économie et des Finances",
        "ministère de l'Agriculture",
        "Ministère de l’Europe",
    ]
    assert sorted(names, key=french_key) == [
        "ministère de l'Agriculture",
        "Ministère de l'Économie et des Finances",
        "Ministère de l'Éducation nationale",
        "Ministère de l’Europe",
        "Ministère de l'Intérieur",
    ]


def test_ligatures_and_ties() -> None:
    assert sorted(["Oeuvres", "Œuf", "Odeur"], key=french_key) == ["Odeur", "Œuf", "Oeuvres"]
    # Same letters once accents are gone: still one stable order, whatever came first.
    assert sorted(["côte", "cote"], key=french_key) == sorted(["cote", "côte"], key=french_key)
