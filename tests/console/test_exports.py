"""CSV export of the filtered inbox: columns, Excel option, formula guard, scope, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlmodel import Session

from console.exports import BATCH, csv_chunks, file_name, guard
from console.inbox_query import InboxFilters
from tests.factories import make_feedback, make_procedure, make_user


def parse(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.fixture
def procedure(session: Session, ministry):
    return make_procedure(session, ministry_id=ministry.id, title="Carte grise")


def test_export_follows_the_filters(client_for, session, procedure, other_ministry) -> None:
    bad = make_feedback(session, procedure=procedure, satisfaction=1, comment="Lent, très lent")
    make_feedback(session, procedure=procedure, satisfaction=3)
    make_feedback(session, procedure=procedure, satisfaction=1, status="spam")
    make_feedback(
        session, procedure=make_procedure(session, ministry_id=other_ministry.id), satisfaction=1
    )
    response = client_for("viewer").get("/console/export.csv?rating=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="retours-')
    assert not response.text.startswith("\ufeff")
    [row] = parse(response.text)
    assert row["id"] == str(bad.id)
    assert row["procedure_title"] == "Carte grise"
    assert row["comment"] == "Lent, très lent"
    assert row["satisfaction"] == "1" and row["status"] == "new"
    assert "contact_email" not in row
    assert row["assignee_email"] == ""


def test_assignee_is_exported_as_an_email(client_for, session, procedure, ministry) -> None:
    colleague = make_user(session, role="agent", ministry=ministry, email="paul@agents.gouv.fr")
    make_feedback(session, procedure=procedure, assignee_id=colleague.id, comment="attribué")
    make_feedback(session, procedure=procedure, comment="libre")
    rows = parse(client_for("viewer").get("/console/export.csv").text)
    by_comment = {row["comment"]: row for row in rows}
    assert by_comment["attribué"]["assignee_email"] == "paul@agents.gouv.fr"
    assert by_comment["libre"]["assignee_email"] == ""
    assert "assignee_id" not in rows[0]


def test_excel_option_semicolons_and_bom(client_for, session, procedure) -> None:
    make_feedback(session, procedure=procedure, comment="Un; deux\ntrois « é »")
    response = client_for("agent").get("/console/export.csv?excel=1")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("N°;Reçu le;Identifiant de la démarche")
    [row] = parse(text, ";")
    assert row["Commentaire"] == "Un; deux\ntrois « é »"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+33 6", "'+33 6"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("bonjour = merci", "bonjour = merci"),
        (None, ""),
        (True, "true"),
        (3, "3"),
    ],
)
def test_formula_guard(value, expected) -> None:
    assert guard(value) == expected


def test_hostile_cells_are_defused_in_the_file(client_for, session, procedure) -> None:
    make_feedback(session, procedure=procedure, comment="=cmd|' /C calc'!A0", page_url="@evil")
    [row] = parse(client_for("agent").get("/console/export.csv").text)
    assert row["comment"] == "'=cmd|' /C calc'!A0"
    assert row["page_url"] == "'@evil"


def test_export_of_another_ministry_is_404(client_for, session, procedure, other_ministry) -> None:
    foreign = make_procedure(session, ministry_id=other_ministry.id)
    agent = client_for("agent")
    assert agent.get(f"/console/export.csv?ministry={other_ministry.id}").status_code == 404
    assert agent.get(f"/console/export.csv?procedure={foreign.id}").status_code == 404
    assert client_for(None).get("/console/export.csv").status_code == 303


def test_export_streams_in_batches(engine, session, procedure) -> None:
    count = BATCH * 2 + 5
    for i in range(count):
        make_feedback(session, procedure=procedure, comment=f"retour {i}")
    chunks = csv_chunks(
        engine, ministry_ids=[procedure.ministry_id], filters=InboxFilters(), titles={}, excel=False
    )
    first = next(chunks)
    # The first chunk is one batch, not the whole file: rows are read as they are sent.
    assert first.count("\r\n") == BATCH + 1
    rest = list(chunks)
    assert len(rest) == 2
    rows = parse(first + "".join(rest))
    assert len(rows) == count
    assert len({r["id"] for r in rows}) == count


def test_excel_file_speaks_french_and_paris_time(client_for, session, procedure) -> None:
    make_feedback(
        session,
        procedure=procedure,
        status="acknowledged",
        kind="malfunction",
        satisfaction=1,
        pii_categories="phone",
        received_at=dt.datetime(2026, 7, 14, 22, 30, tzinfo=dt.UTC),  # 15 July, 00:30 in Paris
    )
    response = client_for("agent").get("/console/export.csv?excel=1")
    name = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="retours-excel-\d{8}-\d{4}\.csv"', name)
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("N°;Reçu le;Identifiant de la démarche;Démarche;Statut")
    [row] = parse(text, ";")
    assert row["Reçu le"] == "15/07/2026 00:30"
    assert (row["Statut"], row["Note"], row["Type"]) == (
        "Pris en compte",
        "Mal",
        "Dysfonctionnement",
    )
    assert row["Données personnelles masquées"] == "Téléphone"
    assert row["Origine enregistrée"] == "oui"


def test_plain_csv_keeps_codes_and_utc(client_for, session, procedure) -> None:
    make_feedback(
        session, procedure=procedure, received_at=dt.datetime(2026, 7, 14, 22, 30, tzinfo=dt.UTC)
    )
    response = client_for("agent").get("/console/export.csv")
    assert re.fullmatch(
        r'attachment; filename="retours-\d{8}-\d{4}\.csv"', response.headers["content-disposition"]
    )
    [row] = parse(response.text, ",")
    assert row["received_at"] == "2026-07-14T22:30:00+00:00"
    assert (row["status"], row["satisfaction"], row["kind"]) == ("new", "2", "malfunction")


def test_file_names_use_paris_time() -> None:
    winter = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert file_name(excel=True, selection=False, now=winter) == "retours-excel-20270101-0030.csv"
    assert (
        file_name(excel=False, selection=True, now=winter) == "retours-selection-20270101-0030.csv"
    )


def test_export_the_selection_ticked_rows_else_the_filter(client_for, session, procedure) -> None:
    ticked = [make_feedback(session, procedure=procedure, kind="complaint") for _ in range(2)]
    make_feedback(session, procedure=procedure, kind="complaint")
    make_feedback(session, procedure=procedure, kind="praise")
    agent = client_for("agent")
    inbox = agent.get("/console/?kind=complaint").text
    assert 'formaction="/console/export.csv" name="format" value="excel"' in inbox
    assert "Seront exportés\u202f: les retours cochés, sinon les 3 retours de ce filtre." in inbox
    form = {"query": "kind=complaint", "format": "csv", "action": "acknowledge"}
    some = agent.submit("/console/export.csv", {**form, "ids": [f.id for f in ticked]})
    assert "retours-selection-" in some.headers["content-disposition"]
    assert sorted(int(r["id"]) for r in parse(some.text, ",")) == sorted(f.id for f in ticked)
    none = agent.submit("/console/export.csv", form)
    assert len(parse(none.text, ",")) == 3
    excel = agent.submit("/console/export.csv", {**form, "format": "excel"})
    assert excel.content.startswith(b"\xef\xbb\xbf")


def test_ticked_rows_of_another_ministry_are_not_exported(
    client_for, session, procedure, other_ministry
) -> None:
    foreign = make_feedback(
        session, procedure=make_procedure(session, ministry_id=other_ministry.id)
    )
    agent = client_for("agent")
    response = agent.submit("/console/export.csv", {"ids": [foreign.id], "format": "csv"})
    assert parse(response.text, ",") == []
