"""The public observatory: levels in words, filters, sorting, accessibility reports counted."""

from __future__ import annotations

import re

import pytest

from retour.models import ProcedureIndicator
from retour.stats import refresh
from tests.factories import make_feedback, make_ministry, make_procedure


@pytest.fixture
def observed(session, engine):
    interieur = make_ministry(session, slug="interieur", name="Ministère de l’Intérieur")
    culture = make_ministry(session, slug="culture", name="Ministère de la Culture")
    passeport = make_procedure(session, id="passeport", title="Passeport", ministry_id=interieur.id)
    musee = make_procedure(session, id="musee", title="Musée", ministry_id=culture.id)
    session.add_all(
        [
            ProcedureIndicator(
                procedure_id="passeport",
                indicator="accessibility",
                value="100",
                detail="https://www.example.gouv.fr/accessibilite",
                evidence="Audit <b>2026</b>",
                declared_by="agent@interieur.gouv.fr",
            ),
            ProcedureIndicator(
                procedure_id="musee", indicator="accessibility", value="30", detail="none"
            ),
        ]
    )
    session.commit()
    for _ in range(3):
        make_feedback(session, procedure=musee, kind="accessibility")
    make_feedback(session, procedure=passeport, kind="accessibility")
    make_feedback(session, procedure=passeport, kind="complaint")
    refresh(engine)
    return passeport, musee


def cells(html: str, title: str) -> str:
    match = re.search(
        rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(title)}</a></th>(.*?)</tr>", html, re.S
    )
    assert match, f"no row for {title}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_observatory_says_levels_in_words_and_counts_accessibility_reports(client_for, observed):
    html = client_for(None).get("/observatoire").text
    passeport = cells(html, "Passeport")
    assert "Bon 100 % de conformité" in passeport
    musee = cells(html, "Musée")
    assert "Insuffisant 30 % de conformité — sans déclaration d’accessibilité" in musee
    # Declared rate, then reports over 12 months.
    assert " 30 % 3 " in musee
    assert " 100 % 1 " in passeport
    assert "agent@interieur.gouv.fr" not in html  # who declared stays in the console
    # Per ministry: procedures, with a statement, mean rate, reports.
    assert re.search(
        r"Ministère de la Culture</th>\s*<td>1</td>\s*<td>0</td>\s*<td>30,0 %</td>\s*<td>3</td>",
        html,
    )


def test_observatory_filters_and_sorts(client_for, observed):
    client = client_for(None)
    poor = client.get("/observatoire?indicateur=accessibility&niveau=poor").text
    assert "Musée" in poor and ">Passeport<" not in poor
    ministry = client.get("/observatoire?ministere=interieur").text
    assert ">Passeport<" in ministry and ">Musée<" not in ministry
    by_reports = client.get("/observatoire?tri=reports&ordre=desc").text
    assert by_reports.index(">Musée<") < by_reports.index(">Passeport<")
    # Nonsense parameters are ignored, never a 500.
    assert client.get("/observatoire?tri=%00&niveau=x&indicateur=<b>").status_code == 200


def test_procedure_page_shows_its_indicators_escaped(client_for, observed):
    html = client_for(None).get("/procedures/passeport").text
    assert "Indicateurs de l’Observatoire" in html
    assert "Audit &lt;b&gt;2026&lt;/b&gt;" in html
    assert "1 problème d’accessibilité signalé par les usagers en 12 mois." in html
