"""CSV export of the filtered inbox: columns, Excel option, formula guard, scope, streaming."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session

from console.exports import BATCH, csv_chunks, guard
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
    assert text.splitlines()[0].startswith("id;received_at;procedure_id")
    [row] = parse(text, ";")
    assert row["comment"] == "Un; deux\ntrois « é »"


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
