"""Incident banners: the spikes `retour.spikes` detected and that are still going on, shown
on the inbox, on a procedure's console page and on its submissions' pages (own ministry only),
one per procedure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from retour.models import Incident, Procedure
from retour.problem_words import INCIDENT_SIGNAL_LABELS


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    procedure_title: str
    what: str
    words: list[str]


def open_incidents(
    session: Session, *, ministry_ids: Sequence[int] | None, procedure_id: str | None = None
) -> list[IncidentView]:
    statement = (
        select(Incident, Procedure.title)
        .join(Procedure, col(Procedure.id) == Incident.procedure_id)
        .where(col(Incident.ended_at).is_(None))
        .order_by(col(Incident.started_at).desc())
        .limit(10)
    )
    if ministry_ids is not None:
        statement = statement.where(col(Incident.ministry_id).in_(list(ministry_ids)))
    if procedure_id:
        statement = statement.where(Incident.procedure_id == procedure_id)
    found: list[IncidentView] = []
    shown: set[str] = set()
    rows = sorted(session.exec(statement).all(), key=lambda r: r[0].signal != "malfunction")
    for incident, title in rows:
        # One banner per procedure: malfunction reports rated « Mal » fire both signals.
        if incident.procedure_id in shown:
            continue
        shown.add(incident.procedure_id)
        try:
            words = [str(w) for w in json.loads(incident.words or "[]")]
        except ValueError:
            words = []
        found.append(
            IncidentView(incident, title, INCIDENT_SIGNAL_LABELS.get(incident.signal, ""), words)
        )
    return found
