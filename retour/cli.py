"""The `retour` command line."""

from __future__ import annotations

import sys

import click

from retour.settings import Settings, SettingsError


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

    from retour.db import make_engine
    from retour.migrate import upgrade

    settings = load_settings()
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
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


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""
    from retour.db import make_engine
    from retour.migrate import upgrade

    engine = make_engine(load_settings())
    upgrade(engine)
    engine.dispose()
    click.echo("Database is up to date.", err=True)


if __name__ == "__main__":
    sys.exit(main())
