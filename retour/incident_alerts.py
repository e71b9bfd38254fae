"""The incident alert email: sent once per incident (`retour.spikes.claim`), to the staff who
follow the procedure (« nouveaux retours » on it or on all their procedures) or who asked for
incident alerts. It names the procedure, the counts and the words many reports share, with
links to the inbox and to create the problem — never a citizen's comment.
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import Connection

from retour.alerts import Subscriber, subscribers
from retour.problem_words import INCIDENT_SIGNAL_LABELS
from retour.settings import Settings

KINDS: Final = ("incident", "new")


def _number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def incident_emails(
    connection: Connection, settings: Settings, incident_id: int
) -> list[tuple[str, str, str]]:
    row = connection.execute(
        text(
            "SELECT i.id, i.procedure_id, i.ministry_id, i.signal, i.observed, i.expected, "
            "i.words, p.title FROM incident i JOIN procedure p ON p.id = i.procedure_id "
            "WHERE i.id = :id"
        ),
        {"id": incident_id},
    ).one()
    people: dict[int, Subscriber] = {}
    for kind in KINDS:
        for person in subscribers(connection, kind):
            if person.wants(row.procedure_id, row.ministry_id):
                people.setdefault(person.user_id, person)
    if not people:
        return []
    what = INCIDENT_SIGNAL_LABELS.get(row.signal, row.signal)
    words = json.loads(row.words or "[]")
    base = settings.public_url.rstrip("/")
    create = urlencode({"procedure": row.procedure_id, "titre": row.title, "incident": row.id})
    lines = [
        f"Incident sur la démarche « {row.title} » :",
        f"{row.observed} {what} dans la dernière heure, "
        f"contre {_number(row.expected)} d’habitude à cette heure-ci "
        "(moyenne des 28 derniers jours).",
        "",
    ]
    if words:
        lines.append("Mots les plus fréquents : " + ", ".join(f"« {w} »" for w in words))
        lines.append("")
    lines += [
        f"Les retours : {base}/console/?{urlencode({'procedure': row.procedure_id})}",
        f"Créer le problème : {base}/console/problems/new?{create}",
        "",
        f"Gérer vos alertes : {base}/console/alerts",
    ]
    subject = f"[Je fais un retour] Incident : {row.observed} {what} sur « {row.title} »"
    body = "\n".join(lines)
    return [(person.email, subject, body) for person in people.values()]
