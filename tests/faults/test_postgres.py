"""PostgreSQL unreachable for a few seconds, or restarted, under load: nothing lost, no 500.

The service (two workers) reaches PostgreSQL through the test's proxy; the test cuts it
(every connection dropped, new ones refused) and restores it, or drops every connection at
once and keeps accepting new ones (what a server restart looks like from the service).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.faults.conftest import Stack
from tests.faults.load import CLIENT_TIMEOUT, Load
from tests.faults.proxy import TcpProxy

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "outage", [pytest.param(4.0, id="unreachable-4s"), pytest.param(0.0, id="restart")]
)
def test_postgres_outage_under_load(
    production: Stack, fault_engine: Engine, fault_procedures: list[str], outage: float
) -> None:
    with (
        TcpProxy(*production.postgres_address) as proxy,
        production.serve(RETOUR_DATABASE_URL=proxy.url_for(production.database_url)) as (
            server,
            _,
        ),
    ):
        load = Load(server.url, fault_procedures[:2])
        with load.running():
            load.wait_for_acknowledgements(30)
            cut_at = time.monotonic()
            if outage:
                proxy.cut()
            else:
                proxy.drop()
            # A citizen of a procedure no worker has looked up yet arrives meanwhile: the
            # service must read it from the database, which is not there.
            late = threading.Thread(target=_visit, args=(load, server.url, fault_procedures[2]))
            late.start()
            time.sleep(outage / 2)
            pages = _console_pages(server.url) if outage else []
            time.sleep(outage / 2)
            proxy.restore()
            restored_at = time.monotonic()
            time.sleep(4)
            late.join(timeout=60)

    load.check(fault_engine)
    assert load.acknowledged_between(restored_at + 1), "the service did not recover by itself"
    if outage:
        assert load.unavailable(cut_at), "no client saw the outage"
    assert "unexpected error" not in production.log()
    assert "unhandled error" not in production.log()
    # Pages that read the database answer 503 with Retry-After while it is away, never 500.
    for path, status, retry_after in pages:
        assert status == 503 and retry_after, (path, status)


def _console_pages(url: str) -> list[tuple[str, int, str | None]]:
    answers = []
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        for path in ("/suivi/ABCDEFGHJK",):  # a receipt is looked up in the database
            response = client.get(path)
            answers.append((path, response.status_code, response.headers.get("retry-after")))
    return answers


def _visit(load: Load, url: str, procedure_id: str) -> None:
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        load.run_one(procedure_id, client)
