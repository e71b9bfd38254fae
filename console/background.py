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
from retour.retention import run_purge_periodically
from retour.settings import Settings
from retour.stats import refresh
from retour.threads import run_to_completion

log = logging.getLogger("retour.console")

ALERT_EVERY: Final = 60.0
PURGE_FIRST_DELAY: Final = 300.0


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


async def _spikes(engine: Engine, every: float) -> None:
    """Without SMTP no alert goes out, but incidents still show as banners in the console."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_to_completion(spikes.record, engine)
        except Exception:  # a database outage must not end the loop
            log.exception("incident detection failed")


async def _purge_later(engine: Engine, settings: Settings) -> None:
    await asyncio.sleep(PURGE_FIRST_DELAY)
    await run_purge_periodically(engine, settings)


@contextlib.asynccontextmanager
async def public_tasks(
    engine: Engine, settings: Settings, *, every: float = ALERT_EVERY
) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(_purge_later(engine, settings))]
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
