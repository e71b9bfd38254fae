"""Fault tests: the real service (`retour serve`, several workers) on the production stack.

PostgreSQL and Redis are those of RETOUR_TEST_POSTGRES_URL / RETOUR_TEST_REDIS_URL (`.ci/run`
sets both, and CI fails without them); elsewhere the tests that need them skip, saying so.

    def test_x(production, fault_procedures, tmp_path):
        with TcpProxy(*production.postgres_address) as proxy, production.serve(
            database_url=proxy.url_for(production.database_url)
        ) as server:
            ...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from retour.db import make_engine
from retour.settings import Settings
from tests.conftest import POSTGRES_URL, REDIS_URL, TEST_SECRET, _truncate_all
from tests.factories import make_procedure
from tests.ingest.conftest import ORIGIN
from tests.live import LiveServer, serve_in_process

WORKERS = 2  # several processes, as production runs; the test machine has two cores


@dataclass
class Stack:
    """What a fault test runs the service on, and how it starts it."""

    database_url: str
    redis_url: str | None
    log_path: Path

    @property
    def postgres_address(self) -> tuple[str, int]:
        url = make_url(self.database_url)
        return url.host or "127.0.0.1", url.port or 5432

    @property
    def redis_address(self) -> tuple[str, int]:
        assert self.redis_url is not None
        url = make_url(self.redis_url)
        return url.host or "127.0.0.1", url.port or 6379

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            "RETOUR_DATABASE_URL": self.database_url,
            "RETOUR_SECRET_KEY": TEST_SECRET,
            "RETOUR_RATE_LIMIT": "1000000/minute",
            "RETOUR_PROCEDURE_RATE_LIMIT": "1000000/minute",
            # Every test its own keys in the shared Redis.
            "RETOUR_REDIS_PREFIX": f"faults-{uuid.uuid4().hex}",
        }
        if self.redis_url:
            env["RETOUR_REDIS_URL"] = self.redis_url
        env.update(overrides)
        return env

    @contextmanager
    def serve(self, workers: int = WORKERS, **overrides: str) -> Iterator[tuple[LiveServer, Any]]:
        with (
            self.log_path.open("ab") as log,
            serve_in_process(self.env(**overrides), workers=workers, output=log) as served,
        ):
            yield served

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def production(request: pytest.FixtureRequest, tmp_path: Path) -> Stack:
    """PostgreSQL (this session's database, emptied) and Redis."""
    if not (POSTGRES_URL and REDIS_URL):
        pytest.skip(
            "fault tests run on PostgreSQL and Redis: set RETOUR_TEST_POSTGRES_URL and "
            "RETOUR_TEST_REDIS_URL (.ci/run does)"
        )
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return Stack(database_url=url, redis_url=REDIS_URL, log_path=tmp_path / "service.log")


@pytest.fixture
def fault_engine(production: Stack) -> Iterator[Engine]:
    """The test's own connection to the database: straight, never through a proxy."""
    engine = make_engine(Settings(database_url=production.database_url, secret_key=TEST_SECRET))
    yield engine
    engine.dispose()


@pytest.fixture
def fault_procedures(fault_engine: Engine) -> list[str]:
    """Three procedures of one ministry; the load spreads over the first two."""
    with Session(fault_engine) as session:
        first = make_procedure(session, origins=(ORIGIN,))
        ids = [first.id]
        for _ in range(2):
            ids.append(make_procedure(session, origins=(ORIGIN,), ministry_id=first.ministry_id).id)
    return ids
