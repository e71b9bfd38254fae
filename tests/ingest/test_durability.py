"""Kill -9 in the middle of a load: every submission answered 2xx is stored exactly once.

Clients behave like the widget: on any failure (connection refused or reset, 503) they
retry the same submission with the same client_id until it is acknowledged.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from retour.models import Procedure
from retour.settings import Settings
from retour.signing import FormTokens
from tests.ingest.conftest import ORIGIN, stored_feedback
from tests.live import free_port, serve_in_process

CLIENTS = 12
PER_CLIENT = 40
KILL_AFTER = 120  # acknowledgements before the kill


@pytest.mark.slow
def test_sigkill_mid_load_loses_and_duplicates_nothing(
    settings: Settings, procedure: Procedure, engine: Any
) -> None:
    env = {
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
        "RETOUR_RATE_LIMIT": "1000000/minute",
        "RETOUR_PROCEDURE_RATE_LIMIT": "1000000/minute",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/feedback"
    token = FormTokens(settings.secret_key).issue(procedure.id)
    acknowledged: dict[str, tuple[int, str]] = {}
    refusals: list[str] = []
    retries = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal retries
        with httpx.Client(timeout=5) as http:
            for n in range(PER_CLIENT):
                body = {
                    "procedure_id": procedure.id,
                    "token": token,
                    "client_id": str(uuid.uuid4()),
                    "satisfaction": 1 + n % 3,
                    "comment": f"Envoi {n}",
                    "page_url": f"{ORIGIN}/etape",
                }
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    try:
                        response = http.post(url, json=body)
                    except httpx.TransportError:
                        response = None
                    if response is not None and response.status_code == 202:
                        with lock:
                            acknowledged[body["client_id"]] = (
                                response.json()["id"],
                                response.json()["receipt"],
                            )
                        break
                    if response is not None and response.status_code != 503:
                        with lock:
                            refusals.append(f"{response.status_code} {response.text}")
                        return
                    with lock:
                        retries += 1
                    time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    with serve_in_process(env, port=port) as (_, process):
        for thread in threads:
            thread.start()
        while len(acknowledged) < KILL_AFTER and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        acknowledged_before_kill = len(acknowledged)
    time.sleep(0.5)  # clients meet a closed port for a moment, and retry
    with serve_in_process(env, port=port):
        for thread in threads:
            thread.join(timeout=120)

    assert refusals == []
    assert acknowledged_before_kill < CLIENTS * PER_CLIENT, "the kill came after the load"
    assert retries > 0, "no client saw the kill"
    assert len(acknowledged) == CLIENTS * PER_CLIENT
    rows = stored_feedback(engine)
    stored = {row.client_id: (row.id, row.receipt) for row in rows}
    assert len(rows) == len(stored)  # no client_id twice
    # Every acknowledged submission is there, with the id and receipt it was answered.
    assert stored == acknowledged
