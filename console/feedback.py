"""One submission (`/console/feedback/{id}`): its text, status, assignment, notes, tags,
public answer (and the email that carries it), and its full history.

Every change is a POST with the CSRF token, answered by a redirect back to the page with a
message code (`?fait=…` or `?erreur=…`), so reloading never repeats it.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import suggestions
from console.auth import require_user
from console.database import run_db, settings_of
from console.feedback_nav import LIST_PARAM, ListContext, Neighbours, neighbours
from console.incidents import IncidentView, open_incidents
from console.labels import LABELS
from console.params import parse_id
from console.problems import WORDS as PROBLEM_WORDS
from console.problems_data import open_problems
from console.scope import CurrentUser, can_triage, ensure_same_ministry, require
from console.templating import render, translate_for
from retour import answer_mail, problems, triage
from retour.mailer import MailNotConfigured, send_mail
from retour.models import (
    Feedback,
    FeedbackNote,
    Ministry,
    Problem,
    Procedure,
    PublicAnswer,
    StaffUser,
)

DONE: Final = {
    "statut": "Le statut est modifié.",
    "attribution": "L'attribution est modifiée.",
    "note": "La note est ajoutée.",
    # Staff are told when their own words were masked, so that nobody wonders where they went.
    "note-masquee": (
        "La note est ajoutée. Des données personnelles (adresse, téléphone, numéro…) y ont été "
        "masquées : elles ne sont pas conservées."
    ),
    "etiquette": "L'étiquette est ajoutée.",
    "etiquette-retiree": "L'étiquette est retirée.",
    "reponse": "La réponse est publiée.",
    "courriel": "La réponse est envoyée par courriel.",
    "enregistre": "Le retour est enregistré.",
}
ERRORS: Final = {
    "transition_refused": "Ce changement de statut n'est pas permis.",
    "unknown_status": "Ce statut n'existe pas.",
    "bad_assignee": "Cette personne ne peut pas recevoir ce retour.",
    "empty_note": "La note est vide.",
    "note_too_long": "La note est trop longue (5 000 caractères au plus).",
    "empty_tag": "L'étiquette est vide.",
    "tag_too_long": "L'étiquette est trop longue (60 caractères au plus).",
    "empty_answer": "La réponse est vide.",
    "answer_too_long": "La réponse est trop longue (5 000 caractères au plus).",
    "empty_reason": "Dites à l’usager pourquoi son retour est rejeté : le motif est obligatoire.",
    "reason_too_long": "Le motif est trop long (300 caractères au plus).",
    "no_answer": "Publiez une réponse avant de l'envoyer.",
    "no_email": "L'usager n'a pas laissé d'adresse électronique.",
    "mail_not_configured": "L'envoi de courriels n'est pas configuré sur ce service.",
    "mail_failed": "L'envoi du courriel a échoué ; réessayez plus tard.",
}


def feedback_id(request: Request) -> int:
    value: int = request.path_params["feedback_id"]  # bounded by its `id` convertor
    return value


def load_visible(session: Session, user: CurrentUser, ident: int) -> Feedback:
    """The submission, or 404 when it does not exist or belongs to another ministry."""
    feedback = session.get(Feedback, ident)
    if feedback is None:
        raise HTTPException(404)
    ensure_same_ministry(user, feedback.ministry_id)
    return feedback


def safe_link(url: str | None) -> str | None:
    """The page URL as a link only when it is http(s); anything else is shown as text only."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


@dataclass
class FeedbackView:
    feedback: Feedback
    procedure: Procedure | None
    ministry_name: str
    tags: list[str]
    notes: list[tuple[FeedbackNote, str | None]]
    answer: PublicAnswer | None
    answer_author: str | None
    history: list[triage.HistoryEntry]
    colleagues: list[tuple[int, str]]
    assignee_email: str | None
    recorded_by: str | None = None
    problem: Problem | None = None
    problem_choices: list[Problem] = field(default_factory=list)


def load_view(session: Session, *, user: CurrentUser, ident: int) -> FeedbackView:
    feedback = load_visible(session, user, ident)
    notes_q = (
        select(FeedbackNote, StaffUser.email)
        .join(StaffUser, col(StaffUser.id) == FeedbackNote.author_id, isouter=True)
        .where(FeedbackNote.feedback_id == ident)
        .order_by(col(FeedbackNote.created_at), col(FeedbackNote.id))
    )
    answer = triage.answer_of(session, ident)
    ministry = session.get(Ministry, feedback.ministry_id)

    def email_of(user_id: int | None) -> str | None:
        person = session.get(StaffUser, user_id) if user_id is not None else None
        return person.email if person else None

    colleagues = [
        (u.id, u.email)
        for u in triage.assignable_users(session, ministry_id=feedback.ministry_id)
        if u.id is not None
    ]
    return FeedbackView(
        feedback=feedback,
        procedure=session.get(Procedure, feedback.procedure_id),
        ministry_name=ministry.name if ministry else "",
        tags=triage.tags_of(session, ident),
        notes=[(note, email) for note, email in session.exec(notes_q).all()],
        answer=answer,
        answer_author=email_of(answer.author_id) if answer else None,
        history=triage.history(session, feedback_id=ident),
        colleagues=colleagues,
        assignee_email=email_of(feedback.assignee_id),
        recorded_by=email_of(feedback.recorded_by_id),
        problem=problems.problem_of(session, ident),
        problem_choices=open_problems(session, ministry_id=feedback.ministry_id),
    )


# Messages about the status are shown in the status section, where the redirect brings the
# focus back (`#statut`), rather than at the top of the page 11 Tabs away.
STATUS_MESSAGES: Final = frozenset(
    {"statut", "transition_refused", "unknown_status", "empty_reason", "reason_too_long"}
)


def _message(request: Request) -> dict[str, str] | None:
    _ = translate_for(request)
    done, error = request.query_params.get("fait"), request.query_params.get("erreur")
    if done in DONE:
        return {"type": "success", "text": _(DONE[done]), "code": done}
    if error in ERRORS:
        return {"type": "error", "text": _(ERRORS[error]), "code": error}
    return None


async def feedback_page(request: Request) -> Response:
    user = require_user(request)
    index = suggestions.index_of(request)

    listing = ListContext.parse(request.query_params.get(LIST_PARAM))

    def load(session: Session) -> tuple[FeedbackView, Any, list[IncidentView], Neighbours]:
        view = load_view(session, user=user, ident=feedback_id(request))
        ongoing = open_incidents(
            session, ministry_ids=None, procedure_id=view.feedback.procedure_id
        )
        around = neighbours(session, index, user=user, context=listing, feedback=view.feedback)
        return view, suggestions.for_feedback(session, index, view.feedback), ongoing, around

    view, suggested, ongoing, around = await run_db(request, load)
    settings = settings_of(request)
    message = _message(request)
    in_status = message is not None and message["code"] in STATUS_MESSAGES
    context: dict[str, Any] = {
        **LABELS,
        **PROBLEM_WORDS,
        "nav": "inbox",
        "view": view,
        "f": view.feedback,
        "page_link": safe_link(view.feedback.page_url),
        "suggested": suggested,
        "incidents": ongoing,
        "transitions": triage.allowed_transitions(view.feedback),
        "editable": can_triage(user),
        "flash": None if in_status else message,
        "status_flash": message if in_status else None,
        "listing": listing,
        "keep": listing.keep,
        "around": around,
        # Without an SMTP server the answer cannot go by email: the page says so instead.
        "mail_configured": bool(settings.smtp_host),
    }
    return render(request, "feedback.html", context)


# --- Actions ---------------------------------------------------------------------------------


def _redirect(
    request: Request,
    ident: int,
    *,
    done: str | None = None,
    error: str | None = None,
    anchor: str = "",
) -> Response:
    """Back to the page, with the message code and the list it was opened from (`liste`)."""
    query = f"?fait={done}" if done else f"?erreur={error}" if error else ""
    keep = ListContext.parse(request.query_params.get(LIST_PARAM)).keep
    if keep:
        query = f"{query}&{keep[1:]}" if query else keep
    fragment = f"#{anchor}" if anchor else ""
    return RedirectResponse(f"/console/feedback/{ident}{query}{fragment}", status_code=303)


async def _act(request: Request, done: str, change: Any, *, anchor: str = "") -> Response:
    """Run `change(session, feedback, user, form)` on a visible submission, then go back
    (to `#anchor`, the section the form was in, when given). A change may return another
    message code than `done`."""
    user = require_user(request)
    ident = feedback_id(request)
    form = await request.form()

    def apply(session: Session) -> str | None:
        feedback = load_visible(session, user, ident)
        # 404 above for another ministry, 403 here for a read-only account of this one.
        require(can_triage, user)
        result: str | None = change(session, feedback, user, form)
        return result

    try:
        outcome = await run_db(request, lambda session: apply(session))
    except triage.NotVisible as error:
        raise HTTPException(404) from error
    except triage.TriageError as error:
        return _redirect(request, ident, error=error.code, anchor=anchor)
    return _redirect(request, ident, done=outcome or done, anchor=anchor)


def _field(form: Any, name: str, limit: int = 20_000) -> str:
    return str(form.get(name) or "")[:limit]


async def change_status(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> None:
        triage.change_status(
            session,
            feedback=feedback,
            actor=user,
            to=_field(form, "to", 20),
            reason=_field(form, "reason", 2000),
        )

    # Back to the status section: its heading (tabindex="-1") takes the focus, so a keyboard
    # user is next to the buttons again and hears the result (its aria-describedby).
    return await _act(request, "statut", change, anchor="statut")


async def assign(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> None:
        raw = _field(form, "assignee", 20)
        assignee = None
        if raw:
            ident = parse_id(raw)
            if ident is None:
                raise triage.TriageError("bad_assignee", "not an account")
            assignee = session.get(StaffUser, ident)
            if assignee is None:
                raise triage.TriageError("bad_assignee", "no such account")
        triage.assign(session, feedback=feedback, actor=user, assignee=assignee)

    return await _act(request, "attribution", change)


async def add_note(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> str | None:
        body = _field(form, "body")
        note = triage.add_note(session, feedback=feedback, actor=user, body=body)
        return "note-masquee" if note.body != body.strip() else None

    return await _act(request, "note", change)


async def add_tag(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> None:
        triage.add_tag(session, feedback=feedback, actor=user, tag=_field(form, "tag", 200))

    return await _act(request, "etiquette", change)


async def remove_tag(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> None:
        triage.remove_tag(session, feedback=feedback, actor=user, tag=_field(form, "tag", 200))

    return await _act(request, "etiquette-retiree", change)


async def save_answer(request: Request) -> Response:
    def change(session: Session, feedback: Feedback, user: CurrentUser, form: Any) -> None:
        triage.save_answer(session, feedback=feedback, actor=user, body=_field(form, "body"))

    return await _act(request, "reponse", change)


async def email_answer(request: Request) -> Response:
    """Send the published answer to the address the citizen left, then record it."""
    user = require_user(request)
    ident = feedback_id(request)
    settings = settings_of(request)

    def prepare(session: Session) -> answer_mail.AnswerEmail:
        feedback = load_visible(session, user, ident)
        require(can_triage, user)
        return answer_mail.answer_email(
            session, feedback=feedback, actor=user, public_url=settings.public_url
        )

    def record(session: Session) -> None:
        feedback = load_visible(session, user, ident)
        answer_mail.record_answer_emailed(session, feedback=feedback, actor=user)

    try:
        email = await run_db(request, prepare)
    except triage.TriageError as error:
        return _redirect(request, ident, error=error.code)
    try:
        await run_in_threadpool(
            send_mail, settings, to=email.to, subject=email.subject, body=email.body
        )
    except MailNotConfigured:
        return _redirect(request, ident, error="mail_not_configured")
    except (smtplib.SMTPException, OSError):
        return _redirect(request, ident, error="mail_failed")
    await run_db(request, record)
    return _redirect(request, ident, done="courriel")


base = "/console/feedback/{feedback_id:bigid}"
routes = [
    Route(base, feedback_page, name="feedback"),
    Route(base + "/status", change_status, methods=["POST"], name="feedback_status"),
    Route(base + "/assign", assign, methods=["POST"], name="feedback_assign"),
    Route(base + "/notes", add_note, methods=["POST"], name="feedback_note"),
    Route(base + "/tags", add_tag, methods=["POST"], name="feedback_tag"),
    Route(base + "/tags/remove", remove_tag, methods=["POST"], name="feedback_tag_remove"),
    Route(base + "/answer", save_answer, methods=["POST"], name="feedback_answer"),
    Route(base + "/answer/email", email_answer, methods=["POST"], name="feedback_answer_email"),
]
