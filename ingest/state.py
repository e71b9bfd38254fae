"""What the ingest lifespan opens and every request uses (handed over as lifespan state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from starlette.requests import Request

from ingest.limits import RateLimits
from ingest.procedures import ProcedureCache
from ingest.writer import Writer
from retour.settings import Settings
from retour.signing import FormTokens

if TYPE_CHECKING:
    from ingest.impressions import ImpressionCounter


@dataclass(frozen=True)
class IngestState:
    settings: Settings
    engine: Engine
    procedures: ProcedureCache
    writer: Writer
    impressions: ImpressionCounter
    limits: RateLimits
    tokens: FormTokens


def ingest_state(request: Request) -> IngestState:
    state: IngestState = request.state.ingest  # set by the lifespan
    return state
