"""`retour procedures import`, `retour users add`, `retour feedback export`, on both backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import Session, func, select

from retour.cli import main
from retour.db import make_engine
from retour.migrate import upgrade
from retour.models import AuditEvent, Feedback, Ministry, Procedure, StaffUser
from retour.passwords import verify_password
from retour.settings import Settings
from tests.factories import make_feedback, make_ministry, make_procedure

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def run(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Run from an empty directory so no stray .env is read.
    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def count(session: Session, model: type) -> int:
    session.rollback()  # a fresh snapshot: the command wrote in its own transaction
    return session.exec(select(func.count()).select_from(model)).one()


# --- procedures import -------------------------------------------------------------------


def test_import_reports_a_summary_and_writes_the_register(
    run, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "demarches.csv"
    path.write_bytes(
        "\ufeffid;title;ministry;url;origins;responsable\r\n"
        "cni;Carte d'identité;Ministère de l'Intérieur;https://ants.gouv.fr/cni;;Jean\r\n"
        'apl;"Aide au logement; APL";Ministère du Logement;https://www.caf.fr/apl;;Marie\r\n'.encode()
    )
    result = run("procedures", "import", str(path))
    assert result.exit_code == 0, result.output
    assert (
        "2 procedure(s) created, 0 updated, 0 unchanged, 2 ministry(ies) created" in result.stdout
    )
    assert "unknown column 'responsable' ignored" in result.stderr
    assert "Importing" in result.stderr  # the progress bar's label (no bar when not a terminal)
    apl = session.get(Procedure, "apl")
    assert apl is not None and apl.title == "Aide au logement; APL"

    # Same file again: nothing changes; an edited title updates by id.
    assert "0 updated, 2 unchanged" in run("procedures", "import", str(path)).stdout
    path.write_text(
        "id,title,ministry,url\ncni,Carte nationale d'identité,Ministère de l'Intérieur,"
        "https://ants.gouv.fr/cni\n"
    )
    assert "0 procedure(s) created, 1 updated" in run("procedures", "import", str(path)).stdout
    session.rollback()  # a fresh snapshot: the command wrote in its own transaction
    cni = session.get(Procedure, "cni")
    assert cni is not None and cni.title == "Carte nationale d'identité"
    assert count(session, Procedure) == 2
    actors = session.exec(select(AuditEvent.actor_label)).all()
    assert actors and set(actors) == {"cli"}


def test_import_dry_run_says_what_would_change_and_writes_nothing(
    run, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "demarches.csv"
    path.write_text("id,title,ministry,url\nrsa,RSA,Ministère des Solidarités,https://www.caf.fr\n")
    result = run("procedures", "import", "--dry-run", str(path))
    assert result.exit_code == 0
    assert result.stdout == (
        "1 procedure(s) would be created, 0 would be updated, 0 unchanged, 1 ministry(ies) "
        "would be created: ministere-des-solidarites. Dry run: nothing was written.\n"
    )
    assert count(session, Procedure) == 0 and count(session, Ministry) == 0
    assert count(session, AuditEvent) == 0


def test_import_with_bad_lines_names_each_and_imports_nothing(
    run, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "demarches.csv"
    path.write_text(
        "id,title,ministry,url\n"
        "ok,Bon,Ministère,https://a.gouv.fr\n"
        'bad id,"Titre\nsur deux lignes",Ministère,https://a.gouv.fr\n'
        "ok2,,Ministère,https://a.gouv.fr\n"
        "ok3,Titre,Autre ministère,javascript:alert(1)\n"
    )
    result = run("procedures", "import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"{path}: line 3: id 'bad id' is invalid" in lines[0]
    assert lines[1] == f"{path}: line 5 (row 4): 'title' is empty"
    assert lines[2].startswith(f"{path}: line 6 (row 5): 'javascript:alert(1)' is not an http")
    assert lines[3] == f"Error: 3 bad line(s) in {path}: nothing was imported."
    assert "Traceback" not in result.output
    assert count(session, Procedure) == 0 and count(session, Ministry) == 0


def test_import_of_a_missing_file_is_a_usage_error(run) -> None:
    result = run("procedures", "import", "nowhere.csv")
    assert result.exit_code == 2 and "nowhere.csv" in result.stderr


# --- users add -----------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin(run, session: Session) -> None:
    ministry = make_ministry(
        session, slug="ministere-de-la-justice", name="Ministère de la Justice"
    )
    result = run(
        "users",
        "add",
        "  Agent.Justice@Example.GOUV.fr ",
        "--role",
        "agent",
        "--ministry",
        "ministere-de-la-justice",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "Created agent account agent.justice@example.gouv.fr of ministere-de-la-justice.\n"
    )
    session.rollback()  # a fresh snapshot: the command wrote in its own transaction
    user = session.exec(select(StaffUser)).one()
    assert (user.email, user.role, user.ministry_id) == (
        "agent.justice@example.gouv.fr",
        "agent",
        ministry.id,
    )
    assert user.password_hash.startswith("$argon2id$") and verify_password(
        user.password_hash, PASSWORD
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.entity == "staff_user")).one()
    assert event.actor_label == "cli" and event.action == "create"


def test_users_add_admin_has_no_ministry(run, session: Session) -> None:
    assert (
        run("users", "add", "dinum@numerique.gouv.fr", "--role", "admin", input=PASSWORD).exit_code
        == 0
    )
    user = session.exec(select(StaffUser)).one()
    assert (user.role, user.ministry_id) == ("admin", None)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        pytest.param(
            ["--role", "admin", "--ministry", "m"],
            PASSWORD,
            "belongs to no ministry",
            id="admin-with-ministry",
        ),
        pytest.param(
            ["--role", "agent"], PASSWORD, "needs --ministry", id="agent-without-ministry"
        ),
        pytest.param(
            ["--role", "viewer", "--ministry", "inconnu"],
            PASSWORD,
            "unknown ministry: 'inconnu'",
            id="unknown-ministry",
        ),
        pytest.param(
            ["--role", "chef", "--ministry", "m"],
            PASSWORD,
            "'chef' is not one of",
            id="unknown-role",
        ),
        pytest.param(
            ["--role", "agent", "--ministry", "m"],
            "court\n",
            "at least 12 characters",
            id="short-password",
        ),
        pytest.param(
            ["--role", "agent", "--ministry", "m"],
            "",
            "no password on standard input",
            id="no-password",
        ),
        pytest.param(
            ["--role", "agent", "--ministry", "m"],
            PASSWORD,
            "already exists for deja@example.gouv.fr",
            id="duplicate",
        ),
    ],
)
def test_users_add_refuses_with_one_clear_line(
    run, session: Session, args: list[str], stdin: str, message: str
) -> None:
    make_ministry(session, slug="m", name="M")
    assert (
        run(
            "users",
            "add",
            "deja@example.gouv.fr",
            "--role",
            "agent",
            "--ministry",
            "m",
            input=PASSWORD,
        ).exit_code
        == 0
    )
    result = run(
        "users",
        "add",
        "DEJA@example.gouv.fr" if "already" in message else "new@example.gouv.fr",
        *args,
        input=stdin,
    )
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.output
    assert count(session, StaffUser) == 1


def test_users_add_prompts_twice_on_a_terminal(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    import os
    import pty
    import select as select_module
    import sys

    make_ministry(session, slug="m", name="M")
    env = {
        **os.environ,
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, with the pty as its terminal
        os.chdir(tmp_path)
        os.execve(
            sys.executable,
            [
                sys.executable,
                "-m",
                "retour.cli",
                "users",
                "add",
                "tty@example.gouv.fr",
                "--role",
                "viewer",
                "--ministry",
                "m",
            ],
            env,
        )
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        while marker not in seen:
            ready, _, _ = select_module.select([fd], [], [], 30)
            assert ready, f"timed out waiting for {marker!r}; got {seen!r}"
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                chunk = b""
            assert chunk, f"ended before {marker!r}; got {seen!r}"
            seen += chunk

    read_until(b"Password:")
    os.write(fd, PASSWORD.encode() + b"\n")
    read_until(b"Repeat for confirmation:")
    os.write(fd, PASSWORD.encode() + b"\n")
    read_until(b"Created viewer account")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert PASSWORD.encode() not in seen  # hidden input is not echoed
    session.rollback()  # a fresh snapshot: the command wrote in its own transaction
    user = session.exec(select(StaffUser)).one()
    assert user.email == "tty@example.gouv.fr" and verify_password(user.password_hash, PASSWORD)


# --- feedback export -----------------------------------------------------------------------


def _stored(session: Session) -> tuple[Ministry, list[Feedback]]:
    mine = make_ministry(session, slug="mine", name="Mine")
    procedure = make_procedure(session, id="p-mine", ministry_id=mine.id)
    other = make_procedure(session, id="p-other")
    rows = [
        make_feedback(
            session,
            procedure=procedure,
            comment='Virgule, "guillemets"\net saut de ligne',
            kind=None,
            satisfaction=1,
        ),
        make_feedback(
            session, procedure=procedure, comment='=HYPERLINK("http://x")', status="resolved"
        ),
        make_feedback(session, procedure=other, comment="Autre ministère"),
    ]
    return mine, rows


def test_export_csv_round_trips_every_submission(run, session: Session) -> None:
    _, rows = _stored(session)
    result = run("feedback", "export")
    assert result.exit_code == 0 and result.stderr == "3 submission(s) exported.\n"
    raw = result.stdout_bytes.decode()  # `.stdout` would turn CRLF into LF
    assert raw.count("\r\n") == 4  # RFC 4180 line ends; the LF inside a comment stays as is
    records = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert list(records[0]) == [
        "id",
        "procedure_id",
        "client_id",
        "received_at",
        "satisfaction",
        "kind",
        "comment",
        "status",
    ]
    assert [int(r["id"]) for r in records] == [f.id for f in rows]
    first = records[0]
    assert first["comment"] == 'Virgule, "guillemets"\net saut de ligne'
    assert (first["kind"], first["satisfaction"], first["status"]) == ("", "1", "new")
    assert first["client_id"] == rows[0].client_id
    assert first["received_at"] == rows[0].received_at.isoformat().replace("+00:00", "Z")
    assert records[1]["comment"] == '=HYPERLINK("http://x")'  # as stored, unless asked otherwise
    safe = run("feedback", "export", "--spreadsheet-safe").stdout_bytes.decode()
    assert (
        list(csv.DictReader(io.StringIO(safe, newline="")))[1]["comment"]
        == '\'=HYPERLINK("http://x")'
    )


def test_export_jsonl_for_one_ministry(run, session: Session) -> None:
    mine, rows = _stored(session)
    result = run("feedback", "export", "--ministry", mine.slug, "--format", "jsonl")
    assert result.exit_code == 0
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in objects] == [rows[0].id, rows[1].id]
    assert objects[0]["kind"] is None and objects[0]["comment"].endswith("saut de ligne")
    assert objects[1]["status"] == "resolved" and objects[1]["received_at"].endswith("Z")


def test_export_streams_more_rows_than_a_batch(run, session: Session, engine) -> None:
    from sqlalchemy import insert

    from retour.export import BATCH

    procedure = make_procedure(session)
    template = make_feedback(session, procedure=procedure).model_dump(exclude={"id"})
    rows = [{**template, "client_id": f"c-{n}", "receipt": f"R-{n}"} for n in range(BATCH * 2 + 7)]
    with engine.begin() as connection:
        connection.execute(insert(Feedback.__table__), rows)  # type: ignore[attr-defined]
    result = run("feedback", "export", "--format", "jsonl")
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert len(ids) == BATCH * 2 + 8 and ids == sorted(ids) and len(set(ids)) == len(ids)


def test_export_of_an_unknown_ministry_is_a_clear_error(run, session: Session) -> None:
    _stored(session)
    result = run("feedback", "export", "--ministry", "nulle-part")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == "Error: unknown ministry: 'nulle-part'.\n"


def test_commands_on_a_database_never_migrated_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "RETOUR_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "RETOUR_SECRET_KEY": "k" * 40,
    }
    result = CliRunner().invoke(main, ["feedback", "export"], env=env)
    assert result.exit_code == 1 and "retour db upgrade" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["db", "upgrade"], id="db-upgrade"),
        pytest.param(["feedback", "export"], id="export"),
        pytest.param(["users", "add", "a@example.gouv.fr", "--role", "admin"], id="users-add"),
    ],
)
def test_an_unreachable_database_is_one_clear_line(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "RETOUR_DATABASE_URL": "postgresql://retour@127.0.0.1:1/retour",
        "RETOUR_SECRET_KEY": "k" * 40,
    }
    result = CliRunner().invoke(main, command, env=env, input=PASSWORD)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: database error: ") and result.stderr.count("\n") == 1
    assert "Check RETOUR_DATABASE_URL" in result.stderr


# --- db upgrade --------------------------------------------------------------------------


def test_db_upgrade_says_whether_it_created_or_found_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "RETOUR_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
        "RETOUR_SECRET_KEY": "k" * 40,
    }
    first = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert first.stderr.startswith("Database created at revision ")
    second = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert second.exit_code == 0, second.output
    assert second.stderr.startswith("Database already up to date (revision ")


def test_db_upgrade_names_the_revisions_it_went_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(Settings(database_url=url, secret_key="k" * 40))
    try:
        upgrade(engine, "0001")  # a database left at the first revision
    finally:
        engine.dispose()
    env = {"RETOUR_DATABASE_URL": url, "RETOUR_SECRET_KEY": "k" * 40}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Database upgraded from revision 0001 to ")


def test_db_upgrade_on_a_migrated_database_changes_nothing(run) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "already up to date" in result.stderr and "created" not in result.stderr


# --- indicators import (issue 18) ---------------------------------------------------------


def test_indicators_import_declares_or_names_bad_lines(run, session, tmp_path) -> None:
    from retour.models import ProcedureIndicator

    make_procedure(session, id="carte-grise")
    good = tmp_path / "indicateurs.csv"
    good.write_text("id;online;franceconnect;evidence\ncarte-grise;full;yes;Audit\n")
    result = run("indicators", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "2 declaration(s)" in result.output
    assert count(session, ProcedureIndicator) == 2
    bad = tmp_path / "mauvais.csv"
    bad.write_text("id;online\ncarte-grise;partial\ninconnue;full\n")
    result = run("indicators", "import", str(bad))
    assert result.exit_code != 0
    assert "line 3" in result.output and "nothing was imported" in result.output
    session.rollback()
    assert session.get(ProcedureIndicator, ("carte-grise", "online")).value == "full"
