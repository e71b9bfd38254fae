"""Two worker processes sharing one database: repeats across processes still store one row."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from retour.models import Procedure
from retour.settings import Settings
from retour.signing import FormTokens
from tests.ingest.conftest import ORIGIN, stored_feedback
from tests.live import serve_in_process


@pytest.mark.slow
def test_two_workers_store_each_submission_once(
    settings: Settings, procedure: Procedure, engine: Any
) -> None:
    env = {
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
        "RETOUR_RATE_LIMIT": "1000000/minute",
    }
    token = FormTokens(settings.secret_key).issue(procedure.id)
    bodies = [
        {
            "procedure_id": procedure.id,
            "token": token,
            "client_id": str(uuid.uuid4()),
            "satisfaction": 2,
            "page_url": f"{ORIGIN}/etape",
        }
        for _ in range(100)
    ]
    # Each submission sent twice at once, on separate connections: with two workers,
    # the copies often land in different processes.
    with serve_in_process(env, workers=2) as (server, _), ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda body: httpx.post(f"{server.url}/api/v1/feedback", json=body, timeout=30),
                bodies + bodies,
            )
        )
    assert {answer.status_code for answer in answers} == {202}
    first, second = answers[:100], answers[100:]
    assert [a.json() for a in first] == [a.json() for a in second]
    rows = stored_feedback(engine)
    assert len(rows) == 100
    assert {row.client_id for row in rows} == {body["client_id"] for body in bodies}
