"""Fixtures: a real database per test (SQLite file; PostgreSQL when configured), Redis, servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from retour.db import make_engine
from retour.migrate import upgrade
from retour.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("RETOUR_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("RETOUR_TEST_REDIS_URL")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not (POSTGRES_URL and REDIS_URL):
        raise pytest.UsageError(
            "CI=true requires RETOUR_TEST_POSTGRES_URL and RETOUR_TEST_REDIS_URL: "
            "the PostgreSQL and Redis tests must run in CI."
        )


# --- SQLite: migrate once, copy the file for each test -----------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", secret_key=TEST_SECRET))
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


# --- PostgreSQL: one database per test session, emptied between tests --------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    assert POSTGRES_URL, "RETOUR_TEST_POSTGRES_URL is not set"
    # Each test session gets its own database so that concurrent runs never collide.
    name = f"retour_test_{uuid.uuid4().hex[:12]}"
    server = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(Settings(database_url=url, secret_key=TEST_SECRET))
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(make_url(url))
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# --- What tests use ----------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "retour.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test: its own database, a fixed secret, generous limits."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        rate_limit="10000/minute",
        procedure_rate_limit="100000/minute",
        public_min_count=3,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("RETOUR_TEST_REDIS_URL is not set: Redis tests skipped")
    return REDIS_URL


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Any]:
    """A real OpenID Connect provider (Node, npm oidc-provider), one per test process."""
    from tests.oidc.provider import running_provider

    with running_provider() as provider:
        yield provider
