"""Recording who changed what in the console (an `AuditEvent` in the caller's transaction)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from console.scope import CurrentUser
from retour.models import AuditEvent


def record(
    session: Session,
    actor: CurrentUser,
    *,
    entity: str,
    entity_id: str | int,
    action: str,
    ministry_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_label=actor.email[:60],
            ministry_id=ministry_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        )
    )
