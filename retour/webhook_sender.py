"""Sending queued webhook deliveries, retried with backoff for a day, every try logged.

    sent = await send_due(engine, settings, http=client, now=...)   # the console's loop
    redeliver(session, delivery=row, now=...)                         # the console's button

`send_due` claims up to `BATCH` deliveries that are due (`pending`, `next_attempt_at` passed,
not locked by another process: the claim sets `locked_until` only where it is still free,
so two processes never send one delivery together), POSTs each body to its endpoint with
`Content-Type: application/json`, `Retour-Event`, `Retour-Delivery` and
`Retour-Signature: t=<unix>,v1=<HMAC-SHA256 of "t." + body>` (`retour.webhooks`), no
redirects followed, and records an attempt (status code, response time, error). A 2xx
answer delivers it; anything else, or no answer in `TIMEOUT`, schedules the next try after
`backoff(attempts)` — 30 s, 2 min, 8 min, 32 min, 2 h 8, then every 4 h — until
`give_up_at` (a day after the event), when it is `failed`. A redelivery from the console
puts it back in the queue for another day. `purge_old` forgets finished deliveries after
30 days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from retour.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from retour.settings import Settings
from retour.threads import run_to_completion
from retour.webhooks import SIGNATURE_HEADER, WebhookError, check_destination, signature_header

log = logging.getLogger("retour.webhooks")

BATCH: Final = 50
TIMEOUT: Final = httpx.Timeout(10.0)
LOCK_FOR: Final = dt.timedelta(minutes=2)
FIRST_RETRY: Final = dt.timedelta(seconds=30)
LONGEST_WAIT: Final = dt.timedelta(hours=4)
RETRY_FOR: Final = dt.timedelta(days=1)
USER_AGENT: Final = "JeFaisUnRetour-Webhooks/1"
deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]
endpoints = WebhookEndpoint.__table__  # type: ignore[attr-defined]
attempts_table = WebhookAttempt.__table__  # type: ignore[attr-defined]


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed try (1, 2, …): ×4 each time, 4 hours at most."""
    return min(FIRST_RETRY * 4 ** (max(attempts, 1) - 1), LONGEST_WAIT)


@dataclass(frozen=True)
class Claimed:
    id: int
    url: str
    secret: str
    event: str
    body: str
    attempts: int
    give_up_at: dt.datetime


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def claim(engine: Engine, now: dt.datetime) -> list[Claimed]:
    due = (
        select(deliveries, endpoints.c.url, endpoints.c.secret)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .where((deliveries.c.locked_until.is_(None)) | (deliveries.c.locked_until < now))
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(BATCH)
    )
    with engine.connect() as connection:
        rows = connection.execute(due).all()
    if not rows:
        return []  # nothing due: no write at all
    claimed = []
    with engine.connect() as connection:
        # The write lock first (SQLite): a read-then-write transaction could otherwise find
        # its snapshot stale and fail, and the conditional update below is the claim anyway.
        connection.execution_options(sqlite_begin="IMMEDIATE")
        connection.begin()
        for row in rows:
            taken = connection.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id, deliveries.c.status == "pending")
                .where((deliveries.c.locked_until.is_(None)) | (deliveries.c.locked_until < now))
                .values(locked_until=now + LOCK_FOR)
            )
            if taken.rowcount == 1:
                claimed.append(
                    Claimed(
                        row.id,
                        row.url,
                        row.secret,
                        row.event,
                        row.body,
                        row.attempts,
                        _utc(row.give_up_at),
                    )
                )
        connection.commit()
    return claimed


async def deliver(http: httpx.AsyncClient, delivery: Claimed, *, allow_private: bool) -> Outcome:
    body = delivery.body.encode()
    started = time.perf_counter()
    try:
        await asyncio.to_thread(check_destination, delivery.url, allow_private=allow_private)
        response = await http.post(
            delivery.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Retour-Event": delivery.event,
                "Retour-Delivery": str(delivery.id),
                SIGNATURE_HEADER: signature_header(delivery.secret, body, int(time.time())),
            },
        )
    except WebhookError as exc:
        return Outcome(None, 0, f"refused: {exc.code}")
    except httpx.HTTPError as exc:
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(None, elapsed, f"{type(exc).__name__}: {exc}"[:300])
    elapsed = round((time.perf_counter() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, elapsed, error)


def record(engine: Engine, delivery: Claimed, outcome: Outcome, now: dt.datetime) -> str:
    """Store the attempt and what comes next; the delivery's new status."""
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "locked_until": None,
        "last_status_code": outcome.status_code,
        "last_duration_ms": outcome.duration_ms,
        "last_error": outcome.error,
    }
    if outcome.delivered:
        values.update(status="delivered", delivered_at=now)
    else:
        retry_at = now + backoff(attempts)
        if retry_at > delivery.give_up_at:
            values.update(status="failed")
        else:
            values.update(next_attempt_at=retry_at)
    with engine.begin() as connection:
        connection.execute(
            attempts_table.insert().values(
                delivery_id=delivery.id,
                at=now,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error=outcome.error,
            )
        )
        connection.execute(update(deliveries).where(deliveries.c.id == delivery.id).values(values))
    return str(values.get("status", "pending"))


async def send_due(
    engine: Engine,
    settings: Settings,
    *,
    http: httpx.AsyncClient,
    now: dt.datetime | None = None,
) -> list[tuple[int, str]]:
    """Send what is due, a few at a time; (delivery id, new status) for each one tried."""
    now = now or utcnow()
    claimed = await run_to_completion(claim, engine, now)
    outcomes: Sequence[Outcome] = await asyncio.gather(
        *(deliver(http, d, allow_private=settings.webhook_allow_private) for d in claimed)
    )
    results = []
    for delivery, outcome in zip(claimed, outcomes, strict=True):
        status = await run_to_completion(record, engine, delivery, outcome, now)
        if not outcome.delivered:
            log.info("webhook delivery %d to %s: %s", delivery.id, delivery.url, outcome.error)
        results.append((delivery.id, status))
    return results


KEEP_FOR: Final = dt.timedelta(days=30)


def purge_old(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Forget deliveries done (delivered or abandoned) more than `KEEP_FOR` ago, with their
    tries: their bodies may hold citizens' comments, which the log needs only for a while."""
    cutoff = (now or utcnow()) - KEEP_FOR
    old = select(deliveries.c.id).where(
        deliveries.c.status != "pending", deliveries.c.created_at < cutoff
    )
    with engine.connect() as connection:
        ids = [row.id for row in connection.execute(old.limit(10_000))]
    if not ids:
        return 0
    with engine.begin() as connection:
        connection.execute(attempts_table.delete().where(attempts_table.c.delivery_id.in_(ids)))
        connection.execute(
            deliveries.delete().where(deliveries.c.id.in_(ids), deliveries.c.status != "pending")
        )
    return len(ids)


def new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)


def redeliver(
    session: Session, *, delivery: WebhookDelivery, now: dt.datetime | None = None
) -> None:
    """Back in the queue at once, with another day of retries (a delivered one is sent again)."""
    now = now or utcnow()
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.give_up_at = now + RETRY_FOR
    delivery.locked_until = None
    session.add(delivery)
