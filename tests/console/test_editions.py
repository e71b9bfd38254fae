"""The observatory's editions: snapshots, the open data of every edition, the history, DINUM."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlmodel import Session, func, select

from console.open_data_indicators import FIELDS
from retour.editions import ensure_current_edition, quarter_of, take_snapshot
from retour.models import IndicatorEdition, ProcedureIndicator
from retour.stats import refresh
from tests.factories import make_ministry, make_procedure

NOW = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)


@pytest.fixture
def declared(session, engine):
    ministry = make_ministry(session, slug="interieur", name="Ministère de l’Intérieur")
    make_procedure(session, id="passeport", title="Passeport", ministry_id=ministry.id)
    session.add(
        ProcedureIndicator(
            procedure_id="passeport",
            indicator="accessibility",
            value="60",
            detail="https://www.example.gouv.fr/a11y",
            declared_at=NOW - dt.timedelta(days=30),
        )
    )
    session.commit()
    refresh(engine)
    return ministry


@pytest.mark.parametrize(
    ("day", "edition"),
    [
        (dt.date(2026, 1, 1), "2026-Q1"),
        (dt.date(2026, 6, 30), "2026-Q2"),
        (dt.date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_quarters(day, edition):
    assert quarter_of(day) == edition


def test_the_quarter_edition_is_taken_once(engine, session, declared):
    assert ensure_current_edition(engine, min_count=100, now=NOW)
    assert not ensure_current_edition(engine, min_count=100, now=NOW + dt.timedelta(days=1))
    session.rollback()
    rows = session.exec(select(IndicatorEdition).where(IndicatorEdition.edition == "2026-Q4")).all()
    levels = {row.indicator: row.level for row in rows}
    assert levels["accessibility"] == "to_improve"
    assert levels["online"] == "no_data"
    # A new quarter gets its own edition.
    assert ensure_current_edition(
        engine, min_count=100, now=dt.datetime(2027, 1, 1, 0, 5, tzinfo=dt.UTC)
    )


def test_open_data_keeps_every_edition_and_the_page_its_history(
    client_for, engine, session, declared
):
    with Session(engine) as other:
        take_snapshot(other, min_count=100, edition="2026-Q3", now=NOW - dt.timedelta(days=90))
        other.commit()
    # Declared again later.
    row = session.get(ProcedureIndicator, ("passeport", "accessibility"))
    row.value = "100"
    session.add(row)
    session.commit()
    with Session(engine) as other:
        take_snapshot(other, min_count=100, edition="2026-Q4", now=NOW)
        other.commit()
    client = client_for(None)
    response = client.get("/open-data/indicators.csv")
    assert response.status_code == 200
    assert response.headers["link"].endswith('rel="license"')
    records = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(records[0]) == FIELDS
    by_edition = {r["edition"]: r for r in records if r["procedure_id"] == "passeport"}
    assert set(by_edition) == {"current", "2026-Q4", "2026-Q3"}
    assert by_edition["2026-Q3"]["rgaa_rate"] == "60"
    assert by_edition["2026-Q3"]["accessibility_level"] == "to_improve"
    assert by_edition["2026-Q4"]["rgaa_rate"] == "100"
    assert by_edition["2026-Q4"]["accessibility_level"] == "good"
    document = client.get("/open-data/indicators.json").json()
    assert document["license"] == "etalab-2.0"
    first = next(r for r in document["indicators"] if r["edition"] == "2026-Q3")
    assert first["rgaa_rate"] == 60 and first["accessibility_reports"] == 0
    page = client.get("/procedures/passeport").text
    assert "Historique des éditions de l’Observatoire" in page
    assert page.index("2026-Q4") < page.index("2026-Q3")


def test_dinum_sees_how_complete_and_current_declarations_are(client_for, declared):
    page = client_for("admin").get("/console/coverage")
    assert page.status_code == 200
    assert "Complétude et fraîcheur des déclarations, par ministère" in page.text
    # 1 procedure, 1 of 7 indicators declared (14 %), that one less than a year old (100 %).
    assert "14\u202f%" in page.text and "100\u202f%" in page.text


def test_snapshot_command(settings, tmp_path, monkeypatch, session, declared):
    from click.testing import CliRunner

    from retour.cli import main

    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["observatory", "snapshot", "--edition", "2026-Q2"], env=env)
    assert result.exit_code == 0, result.output
    assert "Edition 2026-Q2: 1 procedure(s) recorded." in result.output
    session.rollback()
    assert session.exec(select(func.count()).select_from(IndicatorEdition)).one() == 11
    bad = CliRunner().invoke(main, ["observatory", "snapshot", "--edition", "T4"], env=env)
    assert bad.exit_code != 0
