"""Periodic work of the console process: summary refresh and email alerts.

    async with public_tasks(engine, settings):   # in the console lifespan
        yield state

Every `ALERT_EVERY` seconds, when SMTP is configured (`RETOUR_SMTP_HOST`), it refreshes the
summary tables and sends the alerts that are due (`retour.alerts.dispatch`); both are safe
with several processes. Without SMTP nothing runs here: public pages keep their figures fresh
themselves (`retour.stats.refresh_if_stale`), so a console without email writes nothing in the
background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from retour.alerts import dispatch
from retour.settings import Settings
from retour.stats import refresh

log = logging.getLogger("retour.console")

ALERT_EVERY: Final = 60.0


async def _loop(engine: Engine, settings: Settings, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(refresh, engine)
            result = await run_in_threadpool(dispatch, engine, settings)
            if result.emails_sent or result.emails_failed:
                log.info("alerts: %d sent, %d failed", result.emails_sent, result.emails_failed)
        except Exception:  # a database or SMTP outage must not end the loop
            log.exception("periodic refresh or alerts failed")


@contextlib.asynccontextmanager
async def public_tasks(
    engine: Engine, settings: Settings, *, every: float = ALERT_EVERY
) -> AsyncIterator[None]:
    task = asyncio.create_task(_loop(engine, settings, every)) if settings.smtp_host else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
