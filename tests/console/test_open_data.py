"""Open data: the files' content on known data, CSV and JSON agreeing, licence, no citizen words."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session

from console.open_data import ANSWER_FIELDS, PROCEDURE_FIELDS, csv_value
from retour.stats import refresh
from tests.console.public_data import ANSWER, MARKER, load_known


@pytest.fixture
def known(session: Session, engine):
    data = load_known(session)
    refresh(engine)
    return data


def read_csv(response) -> list[dict[str, str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


@pytest.mark.parametrize(
    "name,key,fields",
    [
        ("procedures", "procedures", PROCEDURE_FIELDS),
        ("answers", "answers", ANSWER_FIELDS),
    ],
)
def test_csv_and_json_agree(client_for, known, name: str, key: str, fields) -> None:
    client = client_for(None)
    as_csv = client.get(f"/open-data/{name}.csv")
    as_json = client.get(f"/open-data/{name}.json")
    for response in (as_csv, as_json):
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert 'rel="license"' in response.headers["link"]
        assert MARKER not in response.content.decode("utf-8")
    records = as_json.json()[key]
    rows = read_csv(as_csv)
    assert list(rows[0].keys()) == list(fields)
    assert [{f: csv_value(r[f]) for f in fields} for r in records] == rows
    assert as_json.json()["license"] == "etalab-2.0"


def test_procedures_file_has_exact_figures(client_for, known) -> None:
    records = {
        r["id"]: r for r in client_for(None).get("/open-data/procedures.json").json()["procedures"]
    }
    assert known.archived.id not in records
    assert records[known.passport.id] == {
        "id": known.passport.id,
        "title": "Demande de passeport",
        "ministry": "Ministère de l’Intérieur",
        "ministry_slug": "interieur",
        "url": known.passport.url,
        "online": True,
        "button_live": True,
        "feedback_count": 5,
        "satisfaction_score": 7.0,
        "processed_share": 0.8,
        "median_ack_hours": 2.0,
        "public_answers": 1,
    }
    allowance = records[known.allowance.id]
    assert allowance["satisfaction_score"] is None and allowance["button_live"] is False
    assert allowance["feedback_count"] == 2


def test_answers_file(client_for, known) -> None:
    (answer,) = client_for(None).get("/open-data/answers.json").json()["answers"]
    assert answer["answer"] == ANSWER
    assert answer["procedure_id"] == known.passport.id
    assert answer["status"] == "resolved"
    assert answer["published_at"].endswith("Z")


def test_utf8_in_csv(client_for, known) -> None:
    body = client_for(None).get("/open-data/procedures.csv").content
    assert "Ministère de l’Intérieur".encode() in body


def test_open_data_page_states_licence(client_for, known) -> None:
    response = client_for(None).get("/open-data")
    assert response.status_code == 200
    assert "Licence Ouverte / Open Licence version 2.0" in response.text
    assert "set-cookie" not in response.headers


def test_answers_file_follows_a_new_answer(client_for, known, session, engine) -> None:
    from sqlmodel import select

    from retour.models import Feedback, PublicAnswer, StaffUser, utcnow

    client = client_for(None)
    assert len(client.get("/open-data/answers.json").json()["answers"]) == 1
    feedback = session.exec(select(Feedback).where(Feedback.receipt == known.new_receipt)).one()
    author = session.exec(select(StaffUser)).first()
    session.add(
        PublicAnswer(
            feedback_id=feedback.id,
            procedure_id=feedback.procedure_id,
            ministry_id=feedback.ministry_id,
            body="Nouvelle réponse publiée.",
            author_id=author.id,
        )
    )
    feedback.updated_at = utcnow()  # as retour.triage does when an answer is published
    session.add(feedback)
    session.commit()
    refresh(engine)
    for fmt in ("json", "csv"):
        body = client.get(f"/open-data/answers.{fmt}").content.decode()
        assert "Nouvelle réponse publiée." in body


@pytest.mark.parametrize("seconds", [109_770.0, 109_782.0, 109_800.0, 1_799.0, 7_200.0])
def test_page_delay_agrees_with_open_data_hours(seconds: float) -> None:
    # The page's "30 h 29 min" is the open-data figure (hours, two decimals) read in minutes.
    from console.formatting import Formats
    from retour.figures import hours

    published = hours(seconds)
    assert published is not None
    whole, minutes = divmod(round(published * 60), 60)
    expected = f"{whole}\u202fh\u202f{minutes}\u202fmin" if minutes else f"{whole}\u202fh"
    if whole == 0:
        expected = f"{minutes}\u202fmin"
    assert Formats("fr").duration(seconds) == expected


def test_qa_example_reads_30_h_29_min() -> None:
    from console.formatting import Formats
    from retour.figures import hours

    assert hours(109_770.0) == 30.49
    assert Formats("fr").duration(109_770.0) == "30\u202fh\u202f29\u202fmin"


def test_the_register_for_excel(client_for, known) -> None:
    client = client_for(None)
    machine = client.get("/open-data/procedures.csv")
    excel = client.get("/open-data/procedures-excel.csv")
    assert excel.status_code == 200 and excel.headers["content-type"].startswith("text/csv")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="demarches-excel.csv"' in excel.headers["content-disposition"]
    text = excel.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert header[:3] == ["Identifiant", "Démarche", "Ministère"]
    assert "Satisfaction sur 10" in header and "Bouton actif" in header
    # The same rows as the machine file, which keeps its format.
    assert len(text.splitlines()) == len(machine.text.splitlines())
    assert machine.text.splitlines()[0].startswith("id,title,ministry")
    rows = {line.split(";")[0]: line.split(";") for line in text.splitlines()[1:]}
    passport = rows[known.passport.id]
    assert passport[1] == "Demande de passeport" and passport[header.index("En ligne")] == "oui"
