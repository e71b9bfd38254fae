"""The public answer by email: the message that carries it to the citizen, and what is
recorded once it went (when, by whom; then the citizen's address is erased at once).

Same rules as `retour.triage` (the actor's right is checked here too; flush, never commit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from sqlmodel import Session

from retour import retention
from retour.models import AuditEvent, Feedback, Procedure, utcnow
from retour.triage import ENTITY, Actor, TriageError, _audit, _require_triage, answer_of


@dataclass(frozen=True)
class AnswerEmail:
    to: str
    subject: str
    body: str


_EMAIL_TEXT: Final = {
    "fr": (
        "Réponse à votre retour sur « {title} »",
        "Bonjour,\n\nVous avez fait un retour sur la démarche « {title} ». "
        "Voici la réponse de l'administration :\n\n{answer}\n\n"
        "Vous pouvez la retrouver à l'adresse {url}\n\n"
        "Ce message est envoyé automatiquement, merci de ne pas y répondre.\n",
    ),
    "en": (
        "Answer to your feedback on “{title}”",
        "Hello,\n\nYou gave feedback on the procedure “{title}”. "
        "Here is the administration's answer:\n\n{answer}\n\n"
        "You can find it at {url}\n\n"
        "This message is sent automatically, please do not reply.\n",
    ),
}


def answer_email(
    session: Session, *, feedback: Feedback, actor: Actor, public_url: str
) -> AnswerEmail:
    """The email that carries the answer to the citizen, in the language they wrote in."""
    _require_triage(actor, feedback)
    answer = answer_of(session, feedback.id)  # type: ignore[arg-type]
    if answer is None:
        raise TriageError("no_answer", "publish an answer before sending it")
    if not feedback.contact_email:
        raise TriageError("no_email", "the citizen left no email address")
    procedure = session.get(Procedure, feedback.procedure_id)
    title = procedure.title if procedure else feedback.procedure_id
    subject, body = _EMAIL_TEXT.get(feedback.locale, _EMAIL_TEXT["fr"])
    url = f"{public_url.rstrip('/')}/suivi/{feedback.receipt}"
    return AnswerEmail(
        to=feedback.contact_email,
        subject=subject.format(title=title),
        body=body.format(title=title, answer=answer.body, url=url),
    )


def record_answer_emailed(session: Session, *, feedback: Feedback, actor: Actor) -> None:
    """After the mail server accepted the message: note when, and by whom, then erase the
    citizen's address at once (docs/privacy.md: it is kept only until the answer is sent).
    """
    _require_triage(actor, feedback)
    answer = answer_of(session, feedback.id)  # type: ignore[arg-type]
    if answer is None:
        raise TriageError("no_answer", "publish an answer before sending it")
    now = utcnow()
    answer.emailed_at = now
    session.add(answer)
    # The address itself is not written to the audit log: it is personal data to purge.
    _audit(session, actor=actor, feedback=feedback, action="answer_email", answer_id=answer.id)
    if feedback.contact_email is not None:
        feedback.contact_email = None
        session.add(feedback)
        # The same record the retention purge writes, so the history reads the same either way.
        session.add(
            AuditEvent(
                at=now,
                actor_label=retention.ACTOR,
                ministry_id=feedback.ministry_id,
                entity=ENTITY,
                entity_id=str(feedback.id),
                action=retention.ACTION,
                detail=json.dumps({"reason": "answer_emailed"}),
            )
        )
    session.flush()
