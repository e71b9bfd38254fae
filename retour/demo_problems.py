"""The demo's problems, so that it shows the loop closing: reports grouped into problems
(one fixed and answered to all, one planned, one that will not be fixed) and a spike in
progress on one procedure (an open incident, the banner in the console).

Called by `retour.demo.load_demo` inside its transaction, after the submissions; the spike's
incident is recorded once that transaction is committed (`record_spike`). Everything goes
through `retour.problems`, as staff would do it, signed by the ministry's demo agent.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Final

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from retour import problems, spikes
from retour.demo_data import DEMO_MINISTRY
from retour.demo_feedback import _receipt
from retour.models import Feedback, Ministry, Procedure, StaffUser

AGENT: Final = "agent.interieur@demo.gouv.fr"
LINKED_MAX: Final = 60
# (words the linked reports contain, title, final status, public answer, reason)
PROBLEMS: Final = (
    (
        "%paiement par carte est refusé%",
        "Le paiement par carte est refusé par erreur",
        "fixed",
        "Un contrôle trop strict de notre prestataire de paiement refusait certaines cartes "
        "valides. Il est corrigé depuis le 12 : vous pouvez payer de nouveau par carte. "
        "Merci à toutes celles et ceux qui nous l'ont signalé.",
        "",
    ),
    (
        "%efface les champs%",
        "Le formulaire efface ce qui a été saisi quand on revient en arrière",
        "planned",
        "",
        "",
    ),
    (
        "%enregistrer un brouillon%",
        "Pouvoir enregistrer un brouillon et reprendre plus tard",
        "wont_fix",
        "Nous ne pourrons pas proposer de brouillon cette année.",
        "La démarche doit être remplacée par un nouveau service en ligne au printemps : il "
        "enregistrera automatiquement votre saisie.",
    ),
)
SPIKE_COMMENTS: Final = (
    "Erreur à l'étape 3 : le bouton Valider ne répond plus.",
    "Bloqué à l'étape 3, message d'erreur à chaque tentative.",
    "Étape 3 impossible à valider, erreur technique.",
)
SPIKE_REPORTS: Final = 18


def add_problems(session: Session, rng: random.Random, now: dt.datetime) -> str | None:
    """Create the demo problems and the spike's reports; returns the spiking procedure."""
    ministry = session.exec(select(Ministry).where(Ministry.slug == DEMO_MINISTRY)).first()
    agent = session.exec(select(StaffUser).where(StaffUser.email == AGENT)).first()
    if ministry is None or agent is None or ministry.id is None:
        return None
    for pattern, title, status, answer, reason in PROBLEMS:
        found = session.exec(
            select(Feedback)
            .where(Feedback.ministry_id == ministry.id, col(Feedback.comment).like(pattern))
            .where(col(Feedback.honeypot).is_(False), Feedback.status != "spam")
            .order_by(col(Feedback.received_at).desc())
            .limit(LINKED_MAX)
        ).all()
        if not found:
            continue
        problem = problems.create_problem(
            session,
            actor=agent,
            ministry_id=ministry.id,
            title=title,
            procedure_ids=sorted({f.procedure_id for f in found}),
            owner_id=agent.id,
        )
        problems.link_feedback(
            session, problem=problem, actor=agent, feedback_ids=[f.id for f in found if f.id]
        )
        if status == "planned":
            problems.change_problem_status(session, problem=problem, actor=agent, to="planned")
        elif status in ("fixed", "wont_fix"):
            problems.change_problem_status(
                session,
                problem=problem,
                actor=agent,
                to=status,
                public_answer=answer,
                reason=reason,
            )
    procedure = session.exec(
        select(Procedure).where(Procedure.ministry_id == ministry.id).order_by(Procedure.id)
    ).first()
    if procedure is None:
        return None
    taken: set[str] = set()  # the demo's own receipts are drawn from the same generator
    for _ in range(SPIKE_REPORTS):
        at = now - dt.timedelta(minutes=rng.uniform(1, 55))
        session.add(
            Feedback(
                client_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                receipt=_receipt(rng, taken),
                procedure_id=procedure.id,
                ministry_id=ministry.id,
                received_at=at,
                updated_at=at,
                satisfaction=1,
                kind="malfunction",
                comment=rng.choice(SPIKE_COMMENTS),
            )
        )
    session.flush()
    return procedure.id


def record_spike(engine: Engine, now: dt.datetime) -> None:
    spikes.record(engine, now=now)
