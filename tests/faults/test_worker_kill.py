"""A worker killed (SIGKILL) while the others serve: they keep answering, nothing is lost."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy.engine import Engine

from tests.faults.conftest import WORKERS, Stack
from tests.faults.load import Load
from tests.faults.processes import workers

pytestmark = pytest.mark.slow


def test_a_worker_killed_under_load(
    production: Stack, fault_engine: Engine, fault_procedures: list[str]
) -> None:
    with production.serve() as (server, process):
        running = workers(process.pid)
        assert len(running) == WORKERS, running
        load = Load(server.url, fault_procedures[:2])
        with load.running():
            load.wait_for_acknowledgements(30)
            os.kill(running[0], signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(4)
        # uvicorn's supervisor starts a new worker in the killed one's place.
        replaced = workers(process.pid)

    load.check(fault_engine)
    # The other worker kept answering in the seconds after the kill.
    assert load.acknowledged_between(killed_at, killed_at + 2)
    assert running[0] not in replaced
    assert "unexpected error" not in production.log()
