"""The procedures file as spreadsheets write it, and what importing it does to the register."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, select

from retour.importer import apply_import, parse_procedures
from retour.models import AuditEvent, Feedback, Ministry, Procedure, ProcedureOrigin
from retour.slug import slugify
from tests.factories import make_feedback, make_ministry, make_procedure

HEADER = "id,title,ministry,url"


def parse_text(text: str, encoding: str = "utf-8") -> list[tuple[str, ...]]:
    result = parse_procedures(text.encode(encoding))
    assert result.errors == [], [str(e) for e in result.errors]
    return [(r.id, r.title, r.ministry, r.url, *r.origins) for r in result.rows]


def error_lines(text: str) -> list[tuple[int, str]]:
    return [(e.line, e.code) for e in parse_procedures(text.encode()).errors]


# --- Reading what spreadsheets export ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "id,title,ministry,url\np-1,Passeport,Ministère de l'Intérieur,https://ants.gouv.fr/p\n",
            id="comma-lf",
        ),
        pytest.param(
            "id;title;ministry;url\r\np-1;Passeport;Ministère de l'Intérieur;https://ants.gouv.fr/p\r\n",
            id="semicolon-crlf",
        ),
        pytest.param(
            "\ufeffid;title;ministry;url\r\np-1;Passeport;Ministère de l'Intérieur;https://ants.gouv.fr/p",
            id="bom-semicolon-no-final-newline",
        ),
        pytest.param(
            'URL ; Ministry ; Title ; ID\n"https://ants.gouv.fr/p";"Ministère de l\'Intérieur";'
            '"Passeport";"p-1"\n',
            id="columns-any-order-any-case-quoted",
        ),
        pytest.param(
            "id\ttitle\tministry\turl\np-1\tPasseport\tMinistère de l'Intérieur\thttps://ants.gouv.fr/p\n",
            id="tab",
        ),
    ],
)
def test_reads_every_spreadsheet_dialect(text: str) -> None:
    assert parse_text(text) == [
        (
            "p-1",
            "Passeport",
            "Ministère de l'Intérieur",
            "https://ants.gouv.fr/p",
            "https://ants.gouv.fr",
        )
    ]


def test_excel_sep_line_names_the_separator_and_is_not_a_row() -> None:
    text = "sep=,\r\nid,title,ministry,url\r\na;1,Titre; avec point-virgule,M,https://a.fr\r\n"
    result = parse_procedures(text.encode())
    assert [(r.id, r.title) for r in result.rows] == [] and result.delimiter == ","
    # "a;1" is not a valid id: the error is on physical line 3, the spreadsheet's row 2.
    assert [(e.line, e.row, e.code) for e in result.errors] == [(3, 2, "bad_id")]
    missing = parse_procedures(b"sep=;\nid;title\n").errors
    assert [(e.line, e.code) for e in missing] == [(2, "missing_columns")]


def test_quoted_separators_and_line_breaks_stay_inside_their_cell() -> None:
    text = (
        "id;title;ministry;url;description\r\n"
        'p-1;"Carte grise; duplicata";"Ministère de l\'Intérieur";https://ants.gouv.fr/cg;'
        '"Première ligne\r\nseconde ligne; avec ""guillemets"""\r\n'
        'p-2;Permis;"Ministère de l\'Intérieur";https://ants.gouv.fr/pc;\r\n'
    )
    result = parse_procedures(text.encode())
    assert result.errors == []
    first, second = result.rows
    assert first.title == "Carte grise; duplicata"
    assert first.description == 'Première ligne\r\nseconde ligne; avec "guillemets"'
    assert (first.line, second.line) == (2, 4)


def test_origins_default_to_the_url_and_are_normalised() -> None:
    rows = parse_text(
        "id,title,ministry,url,origins\n"
        "a,A,M,https://www.caf.fr/allocataires/aides,\n"
        "b,B,M,https://x.gouv.fr,HTTPS://Www.Impots.Gouv.FR/ https://x.gouv.fr:443 http://localhost:8080\n"
    )
    assert rows[0][4:] == ("https://www.caf.fr",)
    assert rows[1][4:] == (
        "https://www.impots.gouv.fr",
        "https://x.gouv.fr",
        "http://localhost:8080",
    )


def test_international_domain_names_become_what_browsers_report() -> None:
    rows = parse_text("id,title,ministry,url\na,A,M,https://www.démarches-exemple.fr/x\n")
    assert rows[0][4:] == ("https://www.xn--dmarches-exemple-bqb.fr",)


def test_unknown_columns_are_reported_not_fatal() -> None:
    result = parse_procedures(b"id,title,ministry,url,Owner,notes\na,A,M,https://a.fr,me,x\n")
    assert result.ok
    assert result.unknown_columns == ["Owner", "notes"]


def test_blank_lines_are_skipped_but_counted() -> None:
    text = "id,title,ministry,url\n\na,A,M,https://a.fr\n,,,\nb,B,M,notaurl\n"
    result = parse_procedures(text.encode())
    assert [r.id for r in result.rows] == ["a"]
    assert [(e.line, e.code) for e in result.errors] == [(5, "bad_url")]


# --- Bad lines named by their number -----------------------------------------------------


def test_every_bad_line_is_named_with_what_is_wrong() -> None:
    text = (
        "id;title;ministry;url;origins\n"  # 1
        "ok-1;Bon;Ministère;https://a.fr;\n"  # 2
        "bad id;Titre;Ministère;https://a.fr;\n"  # 3
        ';"Titre\nsur deux lignes";Ministère;https://a.fr;\n'  # 4-5
        "ok-1;Doublon;Ministère;https://a.fr;\n"  # 6
        "x;;;ftp://a.fr;\n"  # 7
        "y;T;—;https://a.fr;https://a.fr/chemin\n"  # 8
        "z;T;M;https://a.fr;;en trop\n"  # 9
    )
    result = parse_procedures(text.encode())
    assert result.rows[0].id == "ok-1"
    assert [(e.line, e.code) for e in result.errors] == [
        (3, "bad_id"),
        (4, "empty"),
        (6, "duplicate_id"),
        (7, "empty"),
        (7, "empty"),
        (7, "bad_url"),
        (8, "bad_ministry"),
        (8, "bad_origin"),
        (9, "too_many_fields"),
    ]
    messages = [str(e) for e in result.errors]
    assert messages[0].startswith("line 3: id 'bad id' is invalid")
    assert messages[2] == "line 6 (row 5): id 'ok-1' already appears on line 2"
    assert "'title' is empty" in messages[3] and "'ministry' is empty" in messages[4]
    assert (
        result.errors[2].message("fr")
        == "ligne 6 (rangée 5)\u202f: identifiant «\u202fok-1\u202f» déjà présent ligne 2"
    )


def test_a_null_character_is_an_error_of_its_line() -> None:
    # PostgreSQL stores no text holding one: the file is refused before anything is written.
    result = parse_procedures(b"id,title,ministry,url\nab,T,Minist\x00re,https://a.fr\n")
    assert result.rows == []
    assert [(e.line, e.code) for e in result.errors] == [(2, "nul")]
    assert (
        str(result.errors[0])
        == "line 2: 'ministry' holds a null character (byte 0): is the file really a CSV?"
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"", "empty_file", id="empty"),
        pytest.param(
            b"id,title,url\na,b,https://a.fr\n", "missing_columns", id="no-ministry-column"
        ),
        pytest.param(b"id,title,ministry,url,id\n", "duplicate_column", id="duplicate-column"),
        pytest.param("id;title\nà".encode("cp1252"), "not_utf8", id="windows-1252"),
        pytest.param(
            b'id,title,ministry,url\na,"unterminated,M,https://a.fr\n', "bad_csv", id="open-quote"
        ),
    ],
)
def test_files_that_cannot_be_read_say_why(data: bytes, code: str) -> None:
    result = parse_procedures(data)
    assert not result.ok and result.rows == []
    assert [e.code for e in result.errors] == [code]


def test_not_utf8_names_the_line_of_the_bad_byte() -> None:
    data = "id,title,ministry,url\na,b,c,https://a.fr\nd,Préfecture,c,https://a.fr\n".encode(
        "cp1252"
    )
    (error,) = parse_procedures(data).errors
    assert error.line == 3 and "CSV UTF-8" in str(error)


# --- The slug rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        pytest.param("Ministère de l'Intérieur", "ministere-de-l-interieur", id="design-example"),
        pytest.param(
            "Ministère de l’Intérieur", "ministere-de-l-interieur", id="typographic-apostrophe"
        ),
        pytest.param("  Ministère   des Armées  ", "ministere-des-armees", id="spaces-trimmed"),
        pytest.param(
            "Économie, Finances & Souveraineté",
            "economie-finances-souverainete",
            id="punctuation-run",
        ),
        pytest.param("Œuvres sociales", "oeuvres-sociales", id="ligature"),
        pytest.param(
            "France Travail (ex-Pôle emploi)", "france-travail-ex-pole-emploi", id="parentheses"
        ),
        pytest.param("DINUM", "dinum", id="upper-case"),
        pytest.param("Ministère n°2", "ministere-n-2", id="digits-kept"),
        pytest.param("—", "", id="nothing-left"),
    ],
)
def test_slug_rule(name: str, slug: str) -> None:
    assert slugify(name) == slug


# --- Writing -----------------------------------------------------------------------------


def test_import_creates_ministries_procedures_origins_and_audit(session: Session) -> None:
    text = (
        "id;title;ministry;url;origins;description\n"
        "cni;Carte nationale d'identité;Ministère de l'Intérieur;https://ants.gouv.fr/cni;"
        "https://ants.gouv.fr https://www.service-public.fr;Demande en ligne\n"
        "apl;Aide au logement;Ministère du Logement;https://www.caf.fr/apl;;\n"
        "pc;Permis de conduire;Ministère de l’Intérieur;https://ants.gouv.fr/pc;;\n"
    )
    summary = apply_import(session, parse_procedures(text.encode()).rows)
    session.commit()
    assert (summary.created, summary.updated, summary.ministries_created) == (
        3,
        0,
        ["ministere-de-l-interieur", "ministere-du-logement"],
    )
    interior = session.exec(
        select(Ministry).where(Ministry.slug == "ministere-de-l-interieur")
    ).one()
    assert interior.name == "Ministère de l'Intérieur"
    cni = session.get(Procedure, "cni")
    assert (
        cni is not None and cni.ministry_id == interior.id and cni.description == "Demande en ligne"
    )
    origins = session.exec(
        select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == "cni")
    ).all()
    assert sorted(origins) == ["https://ants.gouv.fr", "https://www.service-public.fr"]
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert {(e.entity, e.action) for e in events} == {
        ("ministry", "create"),
        ("procedure", "create"),
    }
    assert all(e.actor_label == "cli" for e in events) and len(events) == 5


def test_import_updates_by_id_and_replaces_origins(session: Session) -> None:
    old = make_ministry(session, slug="ancien-ministere", name="Ancien ministère")
    procedure = make_procedure(
        session, id="rsa", ministry_id=old.id, origins=("https://old.gouv.fr", "https://www.caf.fr")
    )
    old_title = procedure.title
    feedback = make_feedback(session, procedure=procedure)
    same = make_procedure(
        session,
        id="same",
        title="Même",
        url="https://a.fr/x",
        ministry_id=old.id,
        origins=("https://a.fr",),
    )
    text = (
        "id,title,ministry,url,origins,description\n"
        "rsa,Revenu de solidarité active,Ministère des Solidarités,https://www.caf.fr/rsa,"
        "https://www.caf.fr https://www.msa.fr,Nouveau texte\n"
        f"same,Même,Ancien ministère,https://a.fr/x,,{same.description}\n"
    )
    summary = apply_import(session, parse_procedures(text.encode()).rows, actor_label="cli")
    session.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    session.expire_all()
    rsa = session.get(Procedure, "rsa")
    assert rsa is not None
    new_ministry = session.exec(
        select(Ministry).where(Ministry.slug == "ministere-des-solidarites")
    ).one()
    assert (rsa.title, rsa.url, rsa.description, rsa.ministry_id) == (
        "Revenu de solidarité active",
        "https://www.caf.fr/rsa",
        "Nouveau texte",
        new_ministry.id,
    )
    origins = session.exec(
        select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == "rsa")
    ).all()
    assert sorted(origins) == ["https://www.caf.fr", "https://www.msa.fr"]
    # The submissions follow their procedure to the new ministry.
    moved = session.get(Feedback, feedback.id)
    assert moved is not None and moved.ministry_id == new_ministry.id
    update = session.exec(select(AuditEvent).where(AuditEvent.action == "update")).one()
    detail = json.loads(update.detail)
    assert detail["title"] == {"from": old_title, "to": "Revenu de solidarité active"}
    assert detail["origins"]["to"] == ["https://www.caf.fr", "https://www.msa.fr"]
