"""Page-load times in the `view` beacon: a histogram per procedure and day, never per person."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from retour.indicators import rate_performance
from retour.models import PageLoadDay, Procedure
from retour.page_loads import bucket_of, median_loads
from tests.ingest.conftest import ORIGIN


def beacon(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(
        "/api/v1/impressions", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )


def histogram(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(PageLoadDay.__table__))  # type: ignore[attr-defined]
        return {r.bucket: r.count for r in rows}


def test_load_times_are_counted_in_buckets(client, procedure: Procedure, engine: Engine) -> None:
    page = f"{ORIGIN}/demarche"
    for load in (120, 180, 350, 950, 12_345):
        assert (
            beacon(
                client, procedure_id=procedure.id, event="view", page_url=page, load_ms=load
            ).status_code
            == 204
        )
    assert beacon(client, procedure_id=procedure.id, event="view", page_url=page).status_code == 204
    deadline = time.monotonic() + 10
    expected = {100: 2, 300: 1, 900: 1, 10_000: 1}
    while (found := histogram(engine)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert found == expected
    with engine.connect() as connection:
        median = median_loads(connection, dt.datetime.now(dt.UTC).date())[procedure.id]
    assert median == 300
    assert rate_performance(median).level == "good"


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(-1, id="negative"),
        pytest.param("800", id="text"),
        pytest.param(True, id="boolean"),
        pytest.param(10**9, id="huge"),
    ],
)
def test_bad_load_times_are_a_field_error(client, procedure: Procedure, load: object) -> None:
    response = beacon(
        client, procedure_id=procedure.id, event="view", page_url=f"{ORIGIN}/", load_ms=load
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "load_ms"
    opened = beacon(
        client, procedure_id=procedure.id, event="open", page_url=f"{ORIGIN}/", load_ms=10
    )
    assert opened.status_code == 422


@pytest.mark.parametrize(
    ("ms", "bucket"), [(0, 0), (99, 0), (2999, 2900), (3000, 3000), (9999, 9500), (599_999, 60_000)]
)
def test_buckets(ms: int, bucket: int) -> None:
    assert bucket_of(ms) == bucket


@pytest.mark.parametrize(
    ("ms", "level"),
    [(399, "good"), (400, "to_improve"), (800, "to_improve"), (801, "poor"), (None, "no_data")],
)
def test_performance_levels(ms, level) -> None:
    assert rate_performance(ms).level == level
