"""POST /api/v1/impressions: the button was shown ("view") or opened ("open") on a page.

Counted per procedure, UTC day, page origin and event; nothing about the person is kept.
Beacons are the hottest path (one per page view), so they never touch the database one by
one: `ImpressionCounter` adds them up in memory and hands the counts to the writer about
once a second, stored by one upsert statement. A crash loses at most that last second of
counts (counts, never a citizen's words: docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from ingest.body import read_json
from ingest.errors import FieldError, Unavailable
from ingest.state import ingest_state
from ingest.submissions import find_procedure, page_location
from ingest.writer import Writer
from retour.intake import ImpressionKey
from retour.models import IMPRESSION_EVENTS, PROCEDURE_ID_RE, utcnow
from retour.page_loads import MAX_LOAD_MS, PageLoadKey, bucket_of

log = logging.getLogger("retour.ingest")

FLUSH_INTERVAL: Final = 1.0  # seconds
# Keys held at most (procedures × origins × events of a day): a flood of made-up origins,
# or a database down for long, cannot grow memory without bound.
MAX_KEYS: Final = 100_000


async def count_impression(request: Request) -> Response:
    state = ingest_state(request)
    await state.limits.check_client(request, kind="impressions")
    data = await read_json(request)
    procedure_id = data.get("procedure_id")
    if not isinstance(procedure_id, str) or not PROCEDURE_ID_RE.match(procedure_id):
        raise FieldError("Identifiant de démarche invalide.", field="procedure_id")
    event = data.get("event")
    if event not in IMPRESSION_EVENTS:
        raise FieldError("Événement : view ou open.", field="event")
    page = page_location(data.get("page_url"))
    if page is None:
        raise FieldError("Adresse de page invalide.", field="page_url")
    load_ms = data.get("load_ms")
    if load_ms is not None and (
        event != "view"
        or not isinstance(load_ms, int)
        or isinstance(load_ms, bool)
        or not 0 <= load_ms <= MAX_LOAD_MS
    ):
        raise FieldError("Temps de chargement : un entier de millisecondes.", field="load_ms")
    procedure = await find_procedure(state, procedure_id)
    now = utcnow()
    key = ImpressionKey(procedure_id=procedure.id, day=now.date(), origin=page[1], event=event)
    state.impressions.add(key, now)
    if load_ms is not None:
        state.impressions.add_load(PageLoadKey(procedure.id, now.date(), bucket_of(load_ms)))
    return Response(status_code=204)


class ImpressionCounter:
    """Counts per key since the last flush; used from the event loop only (no lock)."""

    def __init__(self, writer: Writer, interval: float = FLUSH_INTERVAL) -> None:
        self._writer = writer
        self._interval = interval
        self._counts: dict[ImpressionKey, tuple[int, dt.datetime]] = {}
        # Page-load histogram (issue 18): far fewer keys than impressions (procedure × day ×
        # bucket), flushed with them.
        self._loads: dict[PageLoadKey, int] = {}

    def add_load(self, key: PageLoadKey, count: int = 1) -> None:
        if key in self._loads or len(self._loads) < MAX_KEYS:
            self._loads[key] = self._loads.get(key, 0) + count

    def add(self, key: ImpressionKey, at: dt.datetime, count: int = 1) -> None:
        known = self._counts.get(key)
        if known is not None:
            self._counts[key] = (known[0] + count, max(known[1], at))
        elif len(self._counts) < MAX_KEYS:
            self._counts[key] = (count, at)
        else:
            log.warning("impression counter full: a count was dropped")

    async def flush(self) -> None:
        counts, self._counts = self._counts, {}
        loads, self._loads = self._loads, {}
        if not counts and not loads:
            return
        try:
            await self._writer.add_impressions(counts, loads)
        except Unavailable:
            # Not stored: counted again with the next flush.
            for key, (count, at) in counts.items():
                self.add(key, at, count)
            for load_key, n in loads.items():
                self.add_load(load_key, n)

    async def run(self) -> None:
        """Flush every `interval` seconds until cancelled (the lifespan then flushes once more)."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("flushing impression counts failed")
