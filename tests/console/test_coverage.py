"""`/console/coverage` on known data: live share, trend, unregistered origins, funnel, masking."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import Session

from retour.models import ImpressionCount, utcnow
from retour.stats import refresh
from tests.console.public_data import load_known
from tests.factories import make_feedback


def cells(html: str, table_id: str, row_title: str) -> list[str]:
    table = html[html.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        if row_title in row:
            return [
                re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            ]
    raise AssertionError(f"{row_title} not in {table_id}")


@pytest.fixture
def known(session: Session, engine):
    data = load_known(session)
    now = utcnow()
    # The allowance's button was seen on its registered origin three weeks ago, not since.
    three_weeks = now - dt.timedelta(weeks=3)
    session.add(
        ImpressionCount(
            procedure_id=data.allowance.id,
            day=three_weeks.date(),
            origin="https://caf.example.fr",
            event="view",
            count=7,
            last_seen_at=three_weeks,
        )
    )
    session.add(
        ImpressionCount(
            procedure_id=data.passport.id,
            day=now.date(),
            origin="https://passeport.example.gouv.fr",
            event="open",
            count=4,
            last_seen_at=now,
        )
    )
    make_feedback(session, procedure=data.passport, pii_categories="phone")
    session.commit()
    refresh(engine)
    return data


def test_only_dinum_admins(client_for, known) -> None:
    assert client_for("agent").get("/console/coverage").status_code == 403
    assert client_for("ministry_admin").get("/console/coverage").status_code == 403
    anonymous = client_for(None).get("/console/coverage")
    assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]
    assert client_for("admin").get("/console/coverage").status_code == 200


def test_coverage_figures(client_for, known) -> None:
    html = client_for("admin").get("/console/coverage").text
    # Two active procedures, one live: 50 %.
    assert "Taux de couverture" in html and "50\u202f%" in html
    assert cells(html, "boucle", "Ministère de l’Intérieur")[1:4] == ["1", "1 (100\u202f%)", "6"]
    assert cells(html, "boucle", "Ministère des Solidarités")[1:3] == ["1", "0 (0\u202f%)"]
    # Not live: the allowance, last seen three weeks ago on its registered origin.
    not_live = cells(html, "sans-bouton", "Allocation logement")
    assert not_live[2] != "Jamais"
    assert "Demande de passeport" not in html[html.index('id="sans-bouton"') :].split("</table>")[0]
    # Seen on an origin not registered for it.
    unregistered = cells(html, "non-enregistres", "Allocation logement")
    assert unregistered[1:3] == ["https://copie.example.com", "4"]


def test_trend_week_by_week(client_for, known) -> None:
    html = client_for("admin").get("/console/coverage").text
    table = html[html.index('id="tendance"') :].split("</table>")[0]
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)
    assert len(rows) == 12
    live_counts = [re.findall(r"<td>(.*?)</td>", row)[0] for row in rows]
    assert live_counts[-1] == "1"  # this week: the passport
    assert live_counts[-4] == "1"  # three weeks ago: the allowance
    assert live_counts.count("0") == 10
    assert 'role="img"' in html and "<desc" in html


def test_funnel_and_masked_personal_data(client_for, known) -> None:
    html = client_for("admin").get("/console/coverage").text
    passport = cells(html, "entonnoir", "Demande de passeport")
    # views, opens, open rate, submissions (honeypot excluded), per open, masked 30 d, 12 m
    assert passport[2:] == ["10", "4", "40\u202f%", "6", "150\u202f%", "1", "1"]
    allowance = cells(html, "entonnoir", "Allocation logement")
    assert allowance[2:4] == ["11", "0"]


def test_ministries_in_french_order(client_for, known, session, engine) -> None:
    from tests.factories import make_ministry, make_procedure

    economy = make_ministry(session, slug="economie", name="Ministère de l’Économie")
    make_procedure(session, ministry_id=economy.id, title="Douane")
    session.commit()
    refresh(engine)
    html = client_for("admin").get("/console/coverage").text
    for table_id in ("boucle", "sans-bouton"):
        table = html[html.index(f'id="{table_id}"') :].split("</table>")[0]
        assert table.index("l’Économie") < table.index("Solidarités"), table_id
    loop = html[html.index('id="boucle"') :].split("</table>")[0]
    assert loop.index("l’Économie") < loop.index("l’Intérieur")
