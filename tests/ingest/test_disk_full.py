"""The SQLite file cannot grow (disk full): 503 with Retry-After and a logged reason, nothing
acknowledged that is not stored, and recovery by itself once it can grow again.

"Disk full" is the service's own file-size limit (RLIMIT_FSIZE, set on the running process
with prlimit at the database files' current size): every write past it fails with EFBIG,
which SQLite reports as a disk I/O error, as it does ENOSPC; permissions cannot be used
here since the tests may run as root.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from retour.models import Procedure
from retour.settings import Settings
from retour.signing import FormTokens
from tests.ingest.conftest import ORIGIN, stored_feedback
from tests.live import serve_in_process

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prlimit is Linux's"),
]


def test_a_full_disk_answers_503_then_recovers(
    settings: Settings, procedure: Procedure, engine: Any, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite file's own fault (PostgreSQL's are in tests/faults)")
    env = {
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
        "RETOUR_RATE_LIMIT": "1000000/minute",
    }
    token = FormTokens(settings.secret_key).issue(procedure.id)
    answers: dict[str, list[int]] = {}

    def submit(client: httpx.Client, client_id: str) -> httpx.Response:
        body = {
            "procedure_id": procedure.id,
            "token": token,
            "client_id": client_id,
            "satisfaction": 1,
            "comment": "Le paiement échoue à l’étape 3. " * 20,
            "page_url": f"{ORIGIN}/etape",
        }
        response = client.post("/api/v1/feedback", json=body, timeout=30)
        answers.setdefault(client_id, []).append(response.status_code)
        return response

    with (
        tempfile.TemporaryFile() as log,
        serve_in_process(env, workers=1, output=log) as (server, process),
        httpx.Client(base_url=server.url) as client,
    ):
        assert all(submit(client, str(uuid.uuid4())).status_code == 202 for _ in range(5))
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        # The database's files cannot grow any more; the (small) log file still can.
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        full = max(f.stat().st_size for f in files if f.exists())
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (full, hard))
        refused = [submit(client, str(uuid.uuid4())) for _ in range(20)]
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        # Each refused citizen's widget sends again with the same client_id.
        retried = [
            submit(client, client_id) for client_id in answers if 202 not in answers[client_id]
        ]
        later = [submit(client, str(uuid.uuid4())) for _ in range(5)]
        log.seek(0)
        output = log.read().decode(errors="replace")

    unavailable = [r for r in refused if r.status_code == 503]
    assert unavailable, "no submission saw the full disk"
    assert {r.status_code for r in refused} <= {202, 503}
    assert all(r.headers.get("retry-after") for r in unavailable)
    assert {r.status_code for r in retried + later} == {202}
    stored = stored_feedback(engine)
    acknowledged = {cid for cid, codes in answers.items() if 202 in codes}
    assert sorted(row.client_id for row in stored) == sorted(acknowledged)
    assert len(acknowledged) == len(answers)  # every citizen's words stored, once
    assert "disk I/O error" in output or "database or disk is full" in output
    # One line when the outage starts, one when it ends: not one per refused group.
    assert output.count("database unavailable:") == 1, output
    assert "database available again" in output
    assert "Traceback" not in output
