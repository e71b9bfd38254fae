"""The open dashboard and a procedure's public page, on known data, on both backends."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from retour.stats import refresh
from tests.console.public_data import ANSWER, MARKER, load_known


@pytest.fixture
def known(session: Session, engine):
    data = load_known(session)
    refresh(engine)
    return data


def row_of(html: str, title: str) -> str:
    match = re.search(
        rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(title)}</a></th>(.*?)</tr>", html, re.S
    )
    assert match, f"no row for {title}"
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_dashboard_shows_exact_figures(client_for, known) -> None:
    response = client_for(None).get("/")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    html = response.text
    assert row_of(html, "Demande de passeport") == (
        "Ministère de l’Intérieur Oui Actif 5 7,0 (5 avis) 80\u202f% 2\u202fh 1"
    )
    assert row_of(html, "Allocation logement") == (
        "Ministère des Solidarités Oui Non vu 2 Non publiée (2 avis sur 3 requis) 0\u202f% — 0"
    )
    assert "Démarche archivée" not in html
    assert MARKER not in html
    assert '<caption id="demarches-legende">' in html and 'scope="col"' in html


def test_dashboard_sorts_and_filters_with_plain_links(client_for, known) -> None:
    client = client_for(None)
    html = client.get("/?sort=volume&order=desc").text
    assert 'aria-sort="descending"' in html
    assert html.index("Demande de passeport") < html.index("Allocation logement")
    html = client.get("/?sort=volume&order=asc").text
    assert 'aria-sort="ascending"' in html
    assert html.index("Allocation logement") < html.index("Demande de passeport")

    only_interior = client.get("/?ministry=interieur").text
    assert (
        "Demande de passeport" in only_interior and "Allocation logement</a>" not in only_interior
    )
    live = client.get("/?live=yes").text
    assert "Demande de passeport</a>" in live and "Allocation logement</a>" not in live
    unpublished = client.get("/?score=none").text
    assert (
        "Allocation logement</a>" in unpublished and "Demande de passeport</a>" not in unpublished
    )
    high = client.get("/?score=mid").text
    assert "Demande de passeport</a>" in high
    # Nonsense parameters are ignored, never an error.
    assert client.get("/?sort=%00&order=sideways&page=abc&score=x&live=maybe").status_code == 200


def test_dashboard_loop_per_ministry(client_for, known) -> None:
    html = client_for(None).get("/").text
    loop = html[html.index('id="boucle"') :]
    assert (
        row_of_ministry(loop, "Ministère de l’Intérieur")
        == "1 1 (100\u202f%) 5 80\u202f% 2\u202fh 1"
    )
    assert row_of_ministry(loop, "Ministère des Solidarités") == "1 0 (0\u202f%) 2 0\u202f% — 0"


def row_of_ministry(html: str, name: str) -> str:
    match = re.search(rf"<th scope=\"row\">{re.escape(name)}</th>(.*?)</tr>", html, re.S)
    assert match, name
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_dashboard_in_english(client_for, known) -> None:
    response = client_for(None).get("/?lang=en")
    assert response.status_code == 200
    assert '<html lang="en"' in response.text
    assert "set-cookie" not in response.headers


def test_procedure_page(client_for, known) -> None:
    response = client_for(None).get(f"/procedures/{known.passport.id}")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    html = response.text
    assert ANSWER in html
    assert "Vous avez dit, nous avons fait" in html
    assert MARKER not in html
    assert 'role="img"' in html and "<desc" in html  # the chart and its text alternative
    assert 'id="mois"' in html and 'id="types"' in html and 'id="avis"' in html


def test_procedure_page_hides_spread_below_threshold(client_for, known) -> None:
    html = client_for(None).get(f"/procedures/{known.allowance.id}").text
    assert 'id="avis"' not in html
    assert MARKER not in html


@pytest.mark.parametrize("path", ["/procedures/inconnue", "/procedures/%2e%2e"])
def test_unknown_procedure_is_404(client_for, known, path: str) -> None:
    assert client_for(None).get(path).status_code == 404


def test_archived_procedure_is_404(client_for, known) -> None:
    response = client_for(None).get(f"/procedures/{known.archived.id}")
    assert response.status_code == 404
    assert "set-cookie" not in response.headers


def test_escapes_hostile_titles(client_for, session, engine) -> None:
    from tests.factories import make_procedure

    make_procedure(session, title="<script>alert(1)</script>")
    refresh(engine)
    html = client_for(None).get("/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_english_survives_every_internal_link(client_for, known) -> None:
    # A French browser asks for English once; citizen pages set no cookie, so every internal
    # link (sort headers, navigation, footer, breadcrumb, downloads) must carry the language.
    from urllib.parse import urljoin

    client = client_for(None)
    client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    starts = [
        "/?lang=en",
        f"/procedures/{known.passport.id}?lang=en",
        f"/suivi/{known.receipt}?lang=en",
        "/suivi?lang=en",
        "/open-data?lang=en",
        "/accessibilite?lang=en",
    ]
    followed = 0
    for start in starts:
        page = client.get(start)
        assert page.status_code == 200, start
        for href in re.findall(r'href="([^"]+)"', page.text):
            href = href.replace("&amp;", "&")
            if href.startswith(("http", "mailto:", "#", "/static/")) or "lang=fr" in href:
                continue
            assert "lang=en" in href, (start, href)
            target = urljoin("http://testserver" + start, href)
            response = client.get(target)
            assert response.status_code == 200, (start, href)
            if response.headers["content-type"].startswith("text/html"):
                assert '<html lang="en"' in response.text, (start, href)
            followed += 1
    assert followed > 20
    # The tracking form keeps English through its redirect too.
    redirect = client.get(f"/suivi?numero={known.receipt}&lang=en")
    assert redirect.status_code == 303
    assert redirect.headers["location"].endswith("?lang=en")


def test_ministries_and_procedures_in_french_order(client_for, session, engine) -> None:
    # Byte order would put "l’Économie" after "l’Intérieur" and "éducation" after "visa".
    from tests.factories import make_ministry, make_procedure

    load_known(session)
    economy = make_ministry(session, slug="economie", name="Ministère de l’Économie")
    make_procedure(session, ministry_id=economy.id, title="Éducation financière")
    make_procedure(session, ministry_id=economy.id, title="visa export")
    session.commit()
    refresh(engine)
    html = client_for(None).get("/").text
    select = html[html.index('id="filtre-ministere"') :]
    assert select.index("l’Économie") < select.index("l’Intérieur") < select.index("Solidarités")
    table = html[html.index('id="demarches"') : html.index('id="boucle"')]
    assert table.index("l’Économie") < table.index("l’Intérieur")
    assert table.index("Éducation financière") < table.index("visa export")
    loop = html[html.index('id="boucle"') :]
    assert loop.index("l’Économie") < loop.index("l’Intérieur")
    by_title = client_for(None).get("/?sort=title").text
    assert by_title.index("Éducation financière") < by_title.index("visa export")


def test_name_search_ignores_accents_and_case_and_counts_agree(client_for, known) -> None:
    client = client_for(None)
    one = client.get("/?q=PASSEPORT").text
    assert "Demande de passeport</a>" in one and "1 démarche correspond." in one
    accents = client.get("/?q=d%C3%A9mande").text  # « démande »: the accent does not count
    assert "Demande de passeport</a>" in accents
    none = client.get("/?q=introuvable").text
    assert "0 démarche correspond." in none
    both = client.get("/?q=a").text
    assert "2 démarches correspondent." in both
    english = client.get("/?q=passeport&lang=en").text
    assert "1 procedure matches." in english


def test_procedure_page_shows_satisfaction_over_time(client_for, known) -> None:
    page = client_for(None).get(f"/procedures/{known.passport.id}").text
    assert "Satisfaction sur 10, sur les trois mois précédant chaque semaine" in page
    assert 'id="satisfaction-resume"' in page
    assert "Note de satisfaction sur 10, sur les trois mois précédant chaque semaine" in page or (
        "Pas encore assez d’avis" in page
    )
    assert 'id="tableau-satisfaction"' in page  # the chart's data table
