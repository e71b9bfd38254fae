"""Periodic work of the console process: summary refresh, email alerts, contact-email purge.

    async with public_tasks(engine, settings):   # in the console lifespan
        yield state

Every `ALERT_EVERY` seconds, when SMTP is configured (`RETOUR_SMTP_HOST`), it refreshes the
summary tables and sends the alerts that are due (`retour.alerts.dispatch`: new submissions,
incidents, the weekly digest, the problems' answers); all are safe with several processes.
Without SMTP only incident detection runs (`retour.spikes.record`, so that the console's
incident banners appear; it writes only when an incident opens, changes or ends): public pages
keep their figures fresh themselves (`retour.stats.refresh_if_stale`).

Contact emails past their retention are erased every hour (`retour.retention`), starting a
few minutes after start-up so that a restart loop does not turn into a purge loop.

The observatory's quarterly edition (`retour.editions.ensure_current_edition`), checked every
`EDITION_EVERY` seconds from a few minutes after start-up: the first check of a quarter takes
it, when nobody has yet.

Webhooks, every `WEBHOOK_EVERY` seconds once an endpoint is registered: new events are
queued (`retour.webhook_events.enqueue`) and due deliveries sent
(`retour.webhook_sender.send_due`); both are safe with several processes. Finished
deliveries are forgotten after 30 days (`purge_old`, about once an hour).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from sqlalchemy.engine import Engine

from retour import spikes
from retour.alerts import dispatch
from retour.editions import ensure_current_edition
from retour.retention import run_purge_periodically
from retour.settings import Settings
from retour.stats import refresh
from retour.threads import run_to_completion
from retour.webhook_events import enqueue, has_endpoints
from retour.webhook_sender import new_http_client, purge_old, send_due

log = logging.getLogger("retour.console")

ALERT_EVERY: Final = 60.0
PURGE_FIRST_DELAY: Final = 300.0
WEBHOOK_EVERY: Final = 5.0
WEBHOOK_PURGE_EVERY: Final = 720  # passes: about an hour
EDITION_EVERY: Final = 3600.0


async def _loop(engine: Engine, settings: Settings, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_to_completion(refresh, engine)
            result = await run_to_completion(dispatch, engine, settings)
            if result.emails_sent or result.emails_failed:
                log.info("alerts: %d sent, %d failed", result.emails_sent, result.emails_failed)
        except Exception:  # a database or SMTP outage must not end the loop
            log.exception("periodic refresh or alerts failed")


async def _webhooks(engine: Engine, settings: Settings, every: float) -> None:
    passes = 0
    async with new_http_client() as http:
        while True:
            await asyncio.sleep(every)
            passes += 1
            try:
                if await run_to_completion(has_endpoints, engine):
                    await run_to_completion(enqueue, engine, public_url=settings.public_url)
                    await send_due(engine, settings, http=http)
                    if passes % WEBHOOK_PURGE_EVERY == 0:
                        await run_to_completion(purge_old, engine)
            except Exception:  # a database outage must not end the loop; deliveries wait
                log.exception("webhook events or deliveries failed")


async def _spikes(engine: Engine, every: float) -> None:
    """Without SMTP no alert goes out, but incidents still show as banners in the console."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_to_completion(spikes.record, engine)
        except Exception:  # a database outage must not end the loop
            log.exception("incident detection failed")


async def _editions(engine: Engine, settings: Settings, every: float) -> None:
    # Not at start-up: a restart loop, or a test's short-lived app, takes no snapshot.
    await asyncio.sleep(PURGE_FIRST_DELAY)
    while True:
        try:
            min_count = settings.public_min_count
            if await run_to_completion(ensure_current_edition, engine, min_count=min_count):
                log.info("observatory: this quarter's edition recorded")
        except Exception:  # a database outage must not end the loop; the next check retries
            log.exception("observatory edition failed")
        await asyncio.sleep(every)


async def _purge_later(engine: Engine, settings: Settings) -> None:
    await asyncio.sleep(PURGE_FIRST_DELAY)
    await run_purge_periodically(engine, settings)


@contextlib.asynccontextmanager
async def public_tasks(
    engine: Engine,
    settings: Settings,
    *,
    every: float = ALERT_EVERY,
    webhook_every: float = WEBHOOK_EVERY,
    edition_every: float = EDITION_EVERY,
) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(_purge_later(engine, settings)),
        asyncio.create_task(_editions(engine, settings, edition_every)),
        asyncio.create_task(_webhooks(engine, settings, webhook_every)),
    ]
    if settings.smtp_host:
        tasks.append(asyncio.create_task(_loop(engine, settings, every)))
    else:
        tasks.append(asyncio.create_task(_spikes(engine, every)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
