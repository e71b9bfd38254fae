"""Database engines and sessions, for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from retour.settings import Settings, sqlite_path
from retour.sqlite import BUSY_TIMEOUT_MS, PRAGMAS


def make_engine(settings: Settings, **options: Any) -> Engine:
    url = settings.sqlalchemy_url
    # Database errors must not quote the values they were given (contact emails, comments):
    # they end up in logs and error reports (docs/privacy.md).
    options.setdefault("hide_parameters", True)
    if settings.is_sqlite:
        path = sqlite_path(settings.database_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; we issue it ourselves so that
        # a write transaction takes its lock at the start (BEGIN IMMEDIATE where asked).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# What a database that is down, restarting, unreachable or out of space raises, through
# SQLAlchemy: the request could not be served now, and can be retried as it is (a 503).
# IntegrityError, ProgrammingError, DataError and the like stay bugs or bad input.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot serve now (rather than a bug of ours)."""
    return isinstance(exc, UNAVAILABLE_ERRORS)


def unavailable_reason(exc: BaseException) -> str:
    """One line for the log: the driver's own message, never the statement's parameters."""
    original = getattr(exc, "orig", None) or exc
    first_line = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first_line}"[:300]
