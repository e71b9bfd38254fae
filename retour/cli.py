"""The `retour` command line."""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from retour.models import ROLES
from retour.settings import Settings, SettingsError, is_configured


def load_settings() -> Settings:
    try:
        return Settings.from_environ()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Je fais un retour: the feedback button of French online public services."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Apply migrations, then serve ingest, the console and the public pages."""
    import uvicorn

    from retour.migrate import upgrade

    # Workers read their settings from the environment: set the default before they start.
    if not is_configured("RETOUR_PUBLIC_URL"):
        os.environ["RETOUR_PUBLIC_URL"] = served_url(host, port)
    with database() as engine:
        upgrade(engine)
    uvicorn.run(
        "retour.compose:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the rate limiter decides whom to trust (RETOUR_TRUSTED_PROXIES)
        server_header=False,
        access_log=False,
    )


def served_url(host: str, port: int) -> str:
    """The address `serve` answers at, as a browser on this machine reaches it."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name
        return f"http://{host}:{port}"
    if address.is_unspecified:  # every interface: the loopback one is among them
        return f"http://127.0.0.1:{port}"
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""
    from retour.migrate import current_revision, upgrade

    with database() as engine:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    if before == after:
        click.echo(f"Database already up to date (revision {after}).", err=True)
    elif before is None:
        click.echo(f"Database created at revision {after}.", err=True)
    else:
        click.echo(f"Database upgraded from revision {before} to {after}.", err=True)


@db.command("copy")
@click.option("--from", "source_url", required=True, help="URL of the database to copy from.")
def db_copy(source_url: str) -> None:
    """Copy every row from another database into RETOUR_DATABASE_URL (migrated, empty).

    For moving from SQLite to PostgreSQL: see docs/operations.md.
    """
    from retour.dbcopy import CopyError, copy_database, source_engine
    from retour.migrate import upgrade

    with database() as target:
        try:
            source = source_engine(source_url)
            try:
                upgrade(target)
                copied = copy_database(
                    source,
                    target,
                    progress=lambda table, n: click.echo(f"{table}: {n} row(s)", err=True),
                )
            finally:
                source.dispose()
        except CopyError as exc:
            raise click.ClickException(f"{exc}.") from exc
    url = source.url.render_as_string(hide_password=True)
    click.echo(f"Copied {sum(copied.values())} row(s) in {len(copied)} table(s) from {url}.")


@contextmanager
def database() -> Iterator[Engine]:
    """An engine on the configured database; an unreachable or unmigrated one is one clear line."""
    from retour.db import make_engine

    engine = make_engine(load_settings())
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise click.ClickException(
            f"database error: {reason.rstrip('.')}. Check RETOUR_DATABASE_URL, and run "
            "`retour db upgrade` if the schema is missing."
        ) from exc
    finally:
        engine.dispose()


# --- procedures --------------------------------------------------------------------------


@main.group()
def procedures() -> None:
    """The register of procedures."""


@procedures.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and say what would change; write nothing."
)
def procedures_import(file: BinaryIO, dry_run: bool) -> None:
    """Import or update procedures from a CSV file (comma or semicolon, UTF-8).

    Columns: id, title, ministry, url (required), origins, description. A file with
    any bad line is reported line by line and nothing is imported.
    """
    from sqlmodel import Session

    from retour.importer import apply_import, parse_procedures

    result = parse_procedures(file.read())
    for name in result.unknown_columns:
        click.echo(f"Warning: unknown column {name!r} ignored.", err=True)
    if not result.ok:
        for error in result.errors:
            click.echo(f"{file.name}: {error}", err=True)
        lines = len({error.line for error in result.errors})
        raise click.ClickException(f"{lines} bad line(s) in {file.name}: nothing was imported.")
    try:
        with (
            database() as engine,
            Session(engine) as session,
            click.progressbar(length=len(result.rows), label="Importing", file=sys.stderr) as bar,
        ):
            summary = apply_import(session, result.rows, actor_label="cli", progress=bar.update)
            # A dry run goes all the way, so its figures are exact, then takes nothing back.
            if dry_run:
                session.rollback()
            else:
                session.commit()
    except IntegrityError as exc:  # the same ministry or procedure created meanwhile
        raise click.ClickException(
            "the register changed during the import; nothing was imported: run it again."
        ) from exc
    verb = ("would be created", "would be ") if dry_run else ("created", "")
    click.echo(
        f"{summary.created} procedure(s) {verb[0]}, {summary.updated} {verb[1]}updated, "
        f"{summary.unchanged} unchanged, {len(summary.ministries_created)} ministry(ies) "
        f"{verb[0]}"
        + (f": {', '.join(summary.ministries_created)}." if summary.ministries_created else ".")
        + (" Dry run: nothing was written." if dry_run else "")
    )


# --- users -------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Staff accounts of the console."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.option("--ministry", "ministry_slug", help="The ministry's slug (every role but admin).")
def users_add(email: str, role: str, ministry_slug: str | None) -> None:
    """Create a staff account; the password is asked, or read from standard input."""
    from sqlmodel import select

    from retour.accounts import AccountError, check_password, create_user
    from retour.db import session_scope
    from retour.models import Ministry

    if role == "admin" and ministry_slug:
        raise click.UsageError("an admin (DINUM) belongs to no ministry: leave --ministry out.")
    if role != "admin" and not ministry_slug:
        raise click.UsageError(f"the role {role} needs --ministry SLUG.")
    with database() as engine, session_scope(engine) as session:
        ministry_id = None
        if ministry_slug:
            ministry = session.exec(select(Ministry).where(Ministry.slug == ministry_slug)).first()
            if ministry is None:
                raise click.ClickException(f"unknown ministry: {ministry_slug!r}.")
            ministry_id = ministry.id
        password = _read_password()
        try:
            check_password(password)
            user = create_user(
                session, email=email, password=password, role=role, ministry_id=ministry_id
            )
        except AccountError as exc:
            raise click.ClickException(exc.message("en") + ".") from exc
    where = f" of {ministry_slug}" if ministry_slug else ""
    click.echo(f"Created {user.role} account {user.email}{where}.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    # Piped in (e.g. from a secrets manager): the first line, without its line break.
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException("no password on standard input.")
    return line


# --- feedback ----------------------------------------------------------------------------


@main.group()
def feedback() -> None:
    """Stored submissions."""


@feedback.command("export")
@click.option("--ministry", "ministry_slug", help="Only this ministry's submissions (its slug).")
@click.option(
    "--format", "fmt", type=click.Choice(("csv", "jsonl")), default="csv", show_default=True
)
@click.option(
    "--spreadsheet-safe",
    is_flag=True,
    help="Prefix cells starting with = + - @ with ' so spreadsheets do not run them as formulas.",
)
def feedback_export(ministry_slug: str | None, fmt: str, spreadsheet_safe: bool) -> None:
    """Write every stored submission to standard output, streamed."""
    from sqlmodel import Session, select

    from retour.export import iter_feedback, write_csv, write_jsonl
    from retour.models import Ministry

    out = sys.stdout
    with database() as engine:
        ministry_id = None
        if ministry_slug:
            with Session(engine) as session:
                ministry_id = session.exec(
                    select(Ministry.id).where(Ministry.slug == ministry_slug)
                ).first()
            if ministry_id is None:
                raise click.ClickException(f"unknown ministry: {ministry_slug!r}.")
        rows = iter_feedback(engine, ministry_id=ministry_id)
        try:
            if fmt == "csv":
                count = write_csv(rows, out, spreadsheet_safe=spreadsheet_safe)
            else:
                count = write_jsonl(rows, out)
            out.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
    click.echo(f"{count} submission(s) exported.", err=True)


# --- demo --------------------------------------------------------------------------------


@main.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port `retour serve` will listen on: its address is registered for the /demo page "
    "(unless RETOUR_PUBLIC_URL is set).",
)
def demo(port: int | None) -> None:
    """Fill the database with realistic demo data and print the demo logins."""
    with database() as engine:  # settings first: a bad one is reported before anything else
        from retour.demo import DemoConflict, load_demo

        public_url = load_settings().public_url
        if port is not None and not is_configured("RETOUR_PUBLIC_URL"):
            public_url = served_url("127.0.0.1", port)  # what `serve --port` will default to
        try:
            report = load_demo(
                engine,
                public_url=public_url,
                progress=lambda text: click.echo(text, err=True),
            )
        except DemoConflict as exc:
            raise click.ClickException(f"{exc}.") from exc
    click.echo(report)


# --- groups that live with their feature ---------------------------------------------------


def _add_feature_groups() -> None:
    from retour.alerts import alerts
    from retour.observatory_cli import indicators, observatory

    main.add_command(alerts)
    main.add_command(indicators)
    main.add_command(observatory)
    try:  # `retour privacy purge` arrives with the retention work
        from retour.retention import privacy
    except ModuleNotFoundError as exc:
        if exc.name != "retour.retention":
            raise
    else:
        main.add_command(privacy)


_add_feature_groups()


if __name__ == "__main__":
    sys.exit(main())
