"""Serving apps keep start-up objects out of the garbage collector's passes, and only then."""

from __future__ import annotations

import asyncio
import gc

from ingest.app import create_app
from retour.compose import create_app as create_composite
from retour.settings import Settings


def test_objects_are_frozen_while_the_ingest_serves_and_unfrozen_after(settings: Settings) -> None:
    async def frozen_while_serving() -> int:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    assert gc.get_freeze_count() == 0
    assert asyncio.run(frozen_while_serving()) > 10_000  # the libraries, not a handful
    assert gc.get_freeze_count() == 0


def test_the_composite_freezes_the_console_start_up_too(settings: Settings) -> None:
    async def throttle_collectable() -> bool:
        app = create_composite(settings)
        async with app._both() as state:
            throttle = state["console_login_throttle"]  # made by the console's start-up
            # gc.get_objects() lists what the collector examines: frozen objects are not in it.
            return any(candidate is throttle for candidate in gc.get_objects())

    assert asyncio.run(throttle_collectable()) is False
    assert gc.get_freeze_count() == 0
