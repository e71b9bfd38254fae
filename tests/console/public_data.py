"""Known data for the public pages' tests: two ministries, three procedures, exact figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from retour.models import ImpressionCount, Procedure, PublicAnswer, utcnow
from retour.receipts import new_receipt
from tests.factories import make_feedback, make_ministry, make_procedure, make_user

# Put in every citizen comment: it must never appear on a public page or in open data.
MARKER = "MOTS-DU-CITOYEN-7F3A"
ANSWER = "Nous avons simplifié l’étape 3 du formulaire."


@dataclass
class Known:
    passport: Procedure  # 5 submissions, score 7.0, 4/5 processed, median 2 h, 1 answer, live
    allowance: Procedure  # 2 submissions: score not published (threshold 3), not live
    archived: Procedure
    receipt: str  # of the answered submission
    new_receipt: str  # of a submission nobody has touched


def load_known(session: Session) -> Known:
    now = utcnow()
    interior = make_ministry(session, slug="interieur", name="Ministère de l’Intérieur")
    social = make_ministry(session, slug="solidarites", name="Ministère des Solidarités")
    passport = make_procedure(
        session,
        ministry_id=interior.id,
        title="Demande de passeport",
        origins=("https://passeport.example.gouv.fr",),
    )
    allowance = make_procedure(
        session,
        ministry_id=social.id,
        title="Allocation logement",
        origins=("https://caf.example.fr",),
    )
    archived = make_procedure(
        session, ministry_id=social.id, title="Démarche archivée", active=False
    )
    author = make_user(session, role="agent", ministry=interior)
    received = now - dt.timedelta(days=2)
    answered = None
    for satisfaction, status, ack_hours in (
        (3, "resolved", 1),
        (3, "acknowledged", 2),
        (3, "in_progress", 2),
        (2, "rejected", 30),
        (1, "new", None),
    ):
        feedback = make_feedback(
            session,
            procedure=passport,
            satisfaction=satisfaction,
            status=status,
            received_at=received,
            receipt=new_receipt(),
            acknowledged_at=received + dt.timedelta(hours=ack_hours) if ack_hours else None,
            comment=f"Mon dossier {MARKER} est bloqué",
            kind="malfunction",
        )
        answered = answered or feedback
    untouched = make_feedback(
        session,
        procedure=allowance,
        satisfaction=3,
        receipt=new_receipt(),
        comment=f"Très bien {MARKER}",
        kind="praise",
    )
    make_feedback(session, procedure=allowance, satisfaction=1, comment=MARKER)
    make_feedback(session, procedure=archived, satisfaction=1, comment=MARKER)
    make_feedback(session, procedure=passport, satisfaction=1, honeypot=True, comment=MARKER)
    assert answered is not None
    session.add(
        PublicAnswer(
            feedback_id=answered.id,
            procedure_id=passport.id,
            ministry_id=interior.id,
            body=ANSWER,
            author_id=author.id,
        )
    )
    session.add(
        ImpressionCount(
            procedure_id=passport.id,
            day=now.date(),
            origin="https://passeport.example.gouv.fr",
            event="view",
            count=10,
            last_seen_at=now,
        )
    )
    session.add(
        ImpressionCount(
            procedure_id=allowance.id,
            day=now.date(),
            origin="https://copie.example.com",
            event="view",
            count=4,
            last_seen_at=now,
        )
    )
    session.commit()
    return Known(passport, allowance, archived, answered.receipt, untouched.receipt)
