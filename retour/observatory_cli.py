"""`retour indicators import FILE` (declared indicators from a CSV file) and `retour observatory
snapshot` (a quarterly edition), issue 18.

The same file rules and the same all-or-nothing check as `retour procedures import`
(`retour.indicators_import`); the command line may declare for any ministry's procedures.
"""

from __future__ import annotations

from typing import BinaryIO

import click


@click.group()
def indicators() -> None:
    """The observatory's indicators declared per procedure."""


@indicators.command("import")
@click.argument("file", type=click.File("rb"))
def import_command(file: BinaryIO) -> None:
    """Declare indicators from a CSV file: id, then any of online, rgaa_rate,
    accessibility_statement, franceconnect, dlnuf, help_channels, help_where, online_share,
    yearly_volume, evidence. A file with any bad line imports nothing."""
    from sqlmodel import Session

    from retour.cli import database
    from retour.indicators_import import apply_indicators, check_procedures, parse_indicators

    result = parse_indicators(file.read())
    for name in result.unknown_columns:
        click.echo(f"Warning: unknown column {name!r} ignored.", err=True)
    with database() as engine, Session(engine) as session:
        errors = result.errors or check_procedures(session, result.rows, ministry_id=None)
        if errors:
            for error in errors:
                click.echo(f"{file.name}: {error}", err=True)
            lines = len({error.line for error in errors})
            raise click.ClickException(f"{lines} bad line(s) in {file.name}: nothing was imported.")
        changed = apply_indicators(session, result.rows, actor_id=None, actor_label="cli")
        session.commit()
    click.echo(f"{len(result.rows)} procedure(s) read, {changed} declaration(s) recorded.")


@click.group()
def observatory() -> None:
    """The observatory's quarterly editions."""


@observatory.command("snapshot")
@click.option(
    "--edition", default=None, help='Name of the edition; default: this quarter\'s ("2026-Q4").'
)
def snapshot_command(edition: str | None) -> None:
    """Record an edition of every active procedure's indicators (again, if it exists)."""
    import re

    from sqlmodel import Session

    from retour.cli import database, load_settings
    from retour.editions import quarter_of, take_snapshot
    from retour.models import utcnow

    edition = edition or quarter_of(utcnow().date())
    if not re.fullmatch(r"\d{4}-Q[1-4]", edition):
        raise click.BadParameter("expected a quarter such as 2026-Q4", param_hint="--edition")
    min_count = load_settings().public_min_count
    with database() as engine, Session(engine) as session:
        count = take_snapshot(session, min_count=min_count, edition=edition)
        session.commit()
    click.echo(f"Edition {edition}: {count} procedure(s) recorded.")
