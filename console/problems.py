"""Problems in the console: the list, one problem, and the create and edit forms.

Routes (reading: every role of the ministry, DINUM all; writing: `can_triage`; another
ministry's problem answers 404): `GET /console/problems` ("problems"; `?statut=`,
`?procedure=`), `GET/POST /console/problems/new` ("problem_new"; `?retour=<id>` repeated to
link submissions at creation, `?procedure=`, `?titre=`), `GET /console/problems/{id}`
("problem"; a merged problem redirects to the one it was merged into),
`GET/POST /console/problems/{id}/edit` ("problem_edit"). The state-changing actions on one
problem (status, merge, link, unlink) are in `console.problems_actions`.
"""

from __future__ import annotations

from typing import Any, Final

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import console.params  # noqa: F401  # registers the {…:id} and {…:bigid} path convertors
from console import problems_data as data
from console import suggestions
from console.auth import require_user
from console.database import run_db
from console.labels import LABELS
from console.scope import CurrentUser, can_triage, require
from console.templating import plural_for, render, translate_for
from retour import problems
from retour.models import PROBLEM_STATUSES, Problem, Procedure
from retour.problem_words import (
    PROBLEM_HISTORY_LABELS,
    PROBLEM_STATUS_ACTIONS,
    PROBLEM_STATUS_BADGES,
    PROBLEM_STATUS_LABELS,
)
from retour.triage import TriageError

WORDS: Final[dict[str, Any]] = {
    "problem_labels": PROBLEM_STATUS_LABELS,
    "problem_actions": PROBLEM_STATUS_ACTIONS,
    "problem_badges": PROBLEM_STATUS_BADGES,
    "problem_history": PROBLEM_HISTORY_LABELS,
}
DONE: Final = {
    "cree": "Le problème est créé.",
    "modifie": "Le problème est modifié.",
    "statut": "Le statut du problème est modifié.",
    "fusion": "Les problèmes sont fusionnés.",
}
# Messages whose words follow the count: (singular, plural).
DONE_COUNTED: Final = {
    "lies": ("{n} retour lié au problème.", "{n} retours liés au problème."),
    "retires": ("{n} retour retiré du problème.", "{n} retours retirés du problème."),
}
ERRORS: Final = {
    "empty_title": "Le titre est obligatoire.",
    "title_too_long": "Le titre est trop long (200 caractères au plus).",
    "description_too_long": "La description est trop longue (5 000 caractères au plus).",
    "answer_too_long": "La réponse est trop longue (5 000 caractères au plus).",
    "reason_too_long": "La raison est trop longue (5 000 caractères au plus).",
    "empty_answer": "Écrivez la réponse publique : elle sera envoyée à chaque usager concerné.",
    "empty_reason": "Dites pourquoi le problème ne sera pas corrigé.",
    "no_procedure": "Choisissez au moins une démarche.",
    "bad_procedure": "Ces démarches ne sont pas toutes du même ministère.",
    "bad_owner": "Cette personne ne peut pas suivre ce problème.",
    "transition_refused": "Ce changement de statut n'est pas permis.",
    "unknown_status": "Ce statut n'existe pas.",
    "bad_merge": "Choisissez un autre problème du même ministère.",
    "selection": "Cochez au moins un retour.",
}


def problem_id(request: Request) -> int:
    value: int = request.path_params["problem_id"]
    if value > data.MAX_ID:
        raise HTTPException(404)
    return value


def message(request: Request) -> dict[str, str] | None:
    _ = translate_for(request)
    done, error = request.query_params.get("fait"), request.query_params.get("erreur")
    count = request.query_params.get("n", "0")
    if done in DONE_COUNTED:
        number = int(count) if count.isdigit() and len(count) < 10 else 0
        return {"type": "success", "text": plural_for(request)(*DONE_COUNTED[done], number)}
    if done in DONE:
        return {"type": "success", "text": _(DONE[done])}
    if error in ERRORS:
        return {"type": "error", "text": _(ERRORS[error])}
    return None


async def problem_list(request: Request) -> Response:
    user = require_user(request)
    status = request.query_params.get("statut", "")
    procedure = request.query_params.get("procedure", "")[:64]
    rows = await run_db(
        request,
        data.list_problems,
        user=user,
        status=status if status in PROBLEM_STATUSES else "",
        procedure=procedure,
    )
    context = {**LABELS, **WORDS, "nav": "problems", "rows": rows, "status": status}
    context.update({"statuses": PROBLEM_STATUSES, "flash": message(request)})
    return render(request, "problems/list.html", context)


async def problem_page(request: Request) -> Response:
    user = require_user(request)
    ident = problem_id(request)
    raw_page = request.query_params.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100_000 else 1
    index = suggestions.index_of(request)

    def load(session: Session) -> tuple[data.ProblemView, list[Any]]:
        view = data.problem_view(session, user=user, ident=ident, page=page)
        candidates = []
        if view.problem.merged_into_id is None and view.problem.status in ("open", "planned"):
            candidates = suggestions.for_problem(session, index, view.problem)
        return view, candidates

    view, candidates = await run_db(request, load)
    if view.problem.merged_into_id is not None:
        return RedirectResponse(f"/console/problems/{view.problem.merged_into_id}", 303)
    context: dict[str, Any] = {**LABELS, **WORDS, "nav": "problems", "view": view}
    context.update(
        {
            "p": view.problem,
            "editable": can_triage(user),
            "transitions": problems.problem_transitions(view.problem),
            "candidates": candidates,
            "index_ready": index.ready,
            "flash": message(request),
        }
    )
    return render(request, "problems/detail.html", context)


# --- Create and edit ---------------------------------------------------------------------


def _ids(values: list[Any]) -> list[int]:
    ids = []
    for value in values[:500]:
        text = str(value)
        if not text.isdigit() or len(text) > 19 or int(text) > data.MAX_ID:
            raise HTTPException(404)
        ids.append(int(text))
    return ids


def _owner(form: FormData) -> int | None:
    raw = str(form.get("owner") or "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(400)
    return int(raw)


def _fields(form: FormData) -> dict[str, Any]:
    return {
        "title": str(form.get("title") or "")[:1000],
        "description": str(form.get("description") or "")[:20_000],
        "procedure_ids": [str(v)[:64] for v in form.getlist("procedures")][:500],
        "owner_id": _owner(form),
    }


def _form_context(request: Request, choices: data.FormChoices, **extra: Any) -> dict[str, Any]:
    return {**LABELS, **WORDS, "nav": "problems", "choices": choices, **extra}


async def problem_new(request: Request) -> Response:
    user = require_user(request)
    require(can_triage, user)
    _ = translate_for(request)
    posted = await request.form() if request.method == "POST" else None
    if posted is not None and posted.get("start") == "1":
        # From the inbox's bulk bar: the form, with the ticked submissions.
        feedback_ids = _ids(posted.getlist("ids"))
        if not feedback_ids:
            return RedirectResponse("/console/?erreur=selection", status_code=303)
        return await _new_form(request, user, feedback_ids, [], "", "")
    if request.method == "GET":
        params = request.query_params
        feedback_ids = _ids(params.getlist("retour"))
        choices = await run_db(
            request, data.form_choices, user=user, ministry_id=None, feedback_ids=feedback_ids
        )
        return await _new_form(
            request,
            user,
            feedback_ids,
            params.getlist("procedure"),
            params.get("titre", ""),
            params.get("incident", ""),
        )
    form = posted or await request.form()
    fields = _fields(form)
    feedback_ids = _ids(form.getlist("retour"))
    raw_incident = str(form.get("incident") or "")
    incident_id = int(raw_incident) if raw_incident.isdigit() and len(raw_incident) < 12 else None

    def create(session: Session) -> Problem:
        choices = data.form_choices(
            session,
            user=user,
            ministry_id=_ministry_of(session, user, fields),
            feedback_ids=feedback_ids,
        )
        if choices.ministry_id is None:
            raise TriageError("no_procedure", "choose a procedure")
        problem = problems.create_problem(
            session, actor=user, ministry_id=choices.ministry_id, **fields
        )
        if feedback_ids:
            problems.link_feedback(session, problem=problem, actor=user, feedback_ids=feedback_ids)
        if incident_id is not None:
            problems.attach_incident(session, problem=problem, actor=user, incident_id=incident_id)
        return problem

    try:
        problem = await run_db(request, create)
    except TriageError as error:
        choices = await run_db(
            request, data.form_choices, user=user, ministry_id=None, feedback_ids=feedback_ids
        )
        values = {**fields}
        context = _form_context(
            request,
            choices,
            values=values,
            chosen=set(fields["procedure_ids"]),
            errors=[_(ERRORS.get(error.code, "Ce changement n'est pas permis."))],
        )
        return render(request, "problems/form.html", context, status_code=400)
    return RedirectResponse(f"/console/problems/{problem.id}?fait=cree", status_code=303)


async def _new_form(
    request: Request,
    user: CurrentUser,
    feedback_ids: list[int],
    procedures: list[str],
    title: str,
    incident: str,
) -> Response:
    choices = await run_db(
        request, data.form_choices, user=user, ministry_id=None, feedback_ids=feedback_ids
    )
    chosen = {f.procedure_id for f in choices.feedback} | set(procedures)
    values = {"title": title[:200], "description": "", "owner_id": None}
    context = _form_context(
        request,
        choices,
        values=values,
        chosen=chosen,
        errors=[],
        incident=incident if incident.isdigit() and len(incident) < 12 else "",
    )
    return render(request, "problems/form.html", context)


def _ministry_of(session: Session, user: CurrentUser, fields: dict[str, Any]) -> int | None:
    """The ministry a new problem belongs to: the user's, or (DINUM) its procedures'."""
    if user.ministry_id is not None:
        return user.ministry_id
    for procedure_id in fields["procedure_ids"]:
        procedure = session.get(Procedure, procedure_id)
        if procedure is not None:
            return procedure.ministry_id
    return None


async def problem_edit(request: Request) -> Response:
    user = require_user(request)
    ident = problem_id(request)
    _ = translate_for(request)

    def load(session: Session) -> tuple[Problem, data.FormChoices, list[str]]:
        problem = data.load_problem(session, user, ident)
        require(can_triage, user)
        choices = data.form_choices(session, user=user, ministry_id=problem.ministry_id)
        return problem, choices, problems.procedures_of(session, ident)

    problem, choices, chosen = await run_db(request, load)
    if request.method == "GET":
        values = {
            "title": problem.title,
            "description": problem.description,
            "owner_id": problem.owner_id,
            "public_answer": problem.public_answer,
        }
        context = _form_context(
            request, choices, values=values, chosen=set(chosen), errors=[], problem=problem
        )
        return render(request, "problems/form.html", context)
    form = await request.form()
    fields = _fields(form)
    fields["public_answer"] = str(form.get("public_answer") or "")[:20_000]

    def save(session: Session) -> None:
        current = data.load_problem(session, user, ident)
        problems.update_problem(session, problem=current, actor=user, **fields)

    try:
        await run_db(request, save)
    except TriageError as error:
        context = _form_context(
            request,
            choices,
            values=fields,
            chosen=set(fields["procedure_ids"]),
            errors=[_(ERRORS.get(error.code, "Ce changement n'est pas permis."))],
            problem=problem,
        )
        return render(request, "problems/form.html", context, status_code=400)
    return RedirectResponse(f"/console/problems/{ident}?fait=modifie", status_code=303)


base = "/console/problems"
routes = [
    Route(base, problem_list, name="problems"),
    Route(base + "/new", problem_new, methods=["GET", "POST"], name="problem_new"),
    Route(base + "/{problem_id:id}", problem_page, name="problem"),
    Route(
        base + "/{problem_id:id}/edit", problem_edit, methods=["GET", "POST"], name="problem_edit"
    ),
]
