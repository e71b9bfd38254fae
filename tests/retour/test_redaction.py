"""Masking personal data: a table of real-world true and false positives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retour.redaction import CATEGORIES, MARKERS, mask

CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "pii_cases.json").read_text("utf-8")
)["cases"]


@pytest.mark.parametrize(
    ("text", "categories"),
    [pytest.param(case["text"], case["categories"], id=case["id"]) for case in CASES],
)
def test_shared_cases(text: str, categories: list[str]) -> None:
    assert sorted(mask(text).categories) == sorted(categories)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Rappelez-moi au 06 12 34 56 78 svp",
            "Rappelez-moi au [téléphone masqué] svp",
            id="phone",
        ),
        pytest.param(
            "mail : jean.dupont@gmail.com.",
            "mail : [adresse e-mail masquée].",
            id="email-keeps-final-full-stop",
        ),
        pytest.param(
            "jean (at) orange . fr ou au +33 (0)6 12 34 56 78",
            "[adresse e-mail masquée] ou au [téléphone masqué]",
            id="disguised-email-and-international-phone",
        ),
        pytest.param(
            "NIR 2 92 01 32 012 345 47, IBAN FR76 3000 6000 0112 3456 7890 189.",
            "NIR [numéro de sécurité sociale masqué], IBAN [IBAN masqué].",
            id="nir-and-iban",
        ),
        pytest.param(
            "carte 4970 1012 3456 7893 débitée de 1 234 567 € le 12/05/2024",
            "carte [carte bancaire masquée] débitée de 1 234 567 € le 12/05/2024",
            id="card-but-not-amount-or-date",
        ),
        pytest.param(
            "J'habite au 12 bis rue de la Paix, 75002 Paris depuis 2019.",
            "J'habite au [adresse postale masquée] depuis 2019.",
            id="address-with-postcode-and-town",
        ),
        pytest.param(
            "je m'appelle Jean Dupont, née le 3 mars 1975, dossier n° 2024123456",
            "je m'appelle [nom masqué], née le [date de naissance masquée], "
            "dossier n° [numéro de dossier masqué]",
            id="name-birthdate-reference-keep-their-context",
        ),
        pytest.param(
            "Voiture AB-123-CD.\nCordialement,\nMarie Curie",
            "Voiture [immatriculation masquée].\nCordialement,\n[nom masqué]",
            id="plate-and-signature",
        ),
        pytest.param(
            "numéro allocataire 1234567 et numéro de demande : AB-2024-00123 !",
            "numéro allocataire [numéro de dossier masqué] et numéro de demande : "
            "[numéro de dossier masqué] !",
            id="two-references",
        ),
        pytest.param(
            "1 85 05 78 006 084 91 06 12 34 56 78",
            "[numéro de sécurité sociale masqué] [téléphone masqué]",
            id="two-numbers-in-one-run",
        ),
        pytest.param(
            # "0033…" only starts a number of its own once the card before it is gone:
            # the second masking pass finds it.
            "4111111111111111 0033 6 12 34 56 78",
            "[carte bancaire masquée] [téléphone masqué]",
            id="second-pass-after-glued-number",
        ),
        pytest.param(
            "+33 1 00 00 00 00 0 fois",
            "[téléphone masqué] 0 fois",
            id="international-number-ends-at-its-ninth-digit",
        ),
    ],
)
def test_masked_text(text: str, expected: str) -> None:
    assert mask(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Le bouton Valider ne fait rien à l'étape 3.", id="ordinary"),
        pytest.param("Remboursement de 1 234,56 € attendu depuis le 01/02/2024", id="money-date"),
        pytest.param("J'ai attendu 2 h 30 au guichet n° 4, ticket 125", id="counter-ticket"),
        pytest.param("Formulaire cerfa 12345*02 introuvable", id="cerfa-number"),
        pytest.param("Il faut 3 pièces : carte d'identité, justificatif, photo", id="counts"),
        pytest.param("entre le 01.01.2023 et le 31.12.2023", id="date-range-dots"),
        pytest.param("Appelez le 3939 ou le 0 806 000 245", id="service-numbers"),
        pytest.param(
            "la page https://www.service-public.fr/particuliers/vosdroits/F1234", id="url"
        ),
        pytest.param("Le 12 rue n'existe pas dans la liste", id="number-before-rue-without-name"),
        pytest.param("je suis allocataire depuis 2015", id="allocataire-without-number"),
        pytest.param("Merci pour ce service", id="thanks"),
    ],
)
def test_left_alone(text: str) -> None:
    masked = mask(text)
    assert (masked.text, masked.categories) == (text, frozenset())


def test_markers_are_fixed_french_and_one_per_category() -> None:
    assert set(MARKERS) == set(CATEGORIES)
    assert len(set(MARKERS.values())) == len(MARKERS)
    for marker in MARKERS.values():
        assert (marker.startswith("[") and marker.endswith("masqué]")) or marker.endswith(
            "masquée]"
        )
        assert not any(char.isdigit() for char in marker)


@pytest.mark.parametrize(
    "variants",
    [
        pytest.param(
            ["185057800608491", "1 85 05 78 006 084 91", "1.85.05.78.006.084.91"], id="nir"
        ),
        pytest.param(["0612345678", "06 12 34 56 78", "06-12-34-56-78"], id="phone"),
        pytest.param(["4111111111111111", "4111 1111 1111 1111"], id="card"),
        pytest.param(["DE89370400440532013000", "FR7630006000011234567890189"], id="iban"),
    ],
)
def test_marker_never_reveals_length_or_shape(variants: list[str]) -> None:
    assert len({mask(f"mon numéro : {v} merci").text for v in variants}) == 1


def test_categories_text_is_what_feedback_stores() -> None:
    masked = mask("06 12 34 56 78 et jean@exemple.fr")
    assert masked.categories_text == "email phone"
    assert mask("rien").categories_text == ""
