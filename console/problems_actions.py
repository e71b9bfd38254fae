"""What staff do to one problem: change its status, merge it, link and unlink submissions.

Every action is a POST with the CSRF token, for `can_triage` roles (a viewer gets 403, another
ministry's problem or submission 404), answered by a redirect with a message code
(`?fait=…` or `?erreur=…`), so that reloading never repeats it. `link` also serves the
submission page (« Lier à ce problème ») and the inbox's bulk bar: `return_to` (a console
address) says where to go back.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import console.params  # noqa: F401  # registers the {…:id} and {…:bigid} path convertors
from console import problems_data as data
from console.auth import require_user
from console.database import run_db
from console.problems import _ids, problem_id
from console.scope import can_triage, require
from retour import problems
from retour.triage import NotVisible, TriageError


def _back(ident: int, query: str, return_to: str = "") -> Response:
    if return_to.startswith("/console/") and "//" not in return_to:
        separator = "&" if "?" in return_to else "?"
        return RedirectResponse(f"{return_to}{separator}{query}", status_code=303)
    return RedirectResponse(f"/console/problems/{ident}?{query}", status_code=303)


async def _act(request: Request, change: Any, done: str, ident: int | None = None) -> Response:
    """Run `change(session, problem, user, form)` on a visible problem, then go back."""
    user = require_user(request)
    form: FormData = await request.form()
    if ident is None:
        ident = problem_id(request)
    return_to = str(form.get("return_to") or "")[:2000]

    def apply(session: Session) -> int:
        problem = data.load_problem(session, user, ident)
        require(can_triage, user)
        if problem.merged_into_id is not None:
            raise HTTPException(404)
        result: int = change(session, problem, user, form)
        return result

    try:
        count = await run_db(request, apply)
    except NotVisible as error:
        raise HTTPException(404) from error
    except TriageError as error:
        return _back(ident, f"erreur={error.code}", return_to)
    return _back(ident, f"fait={done}&n={count}", return_to)


async def change_status(request: Request) -> Response:
    def change(session: Session, problem: Any, user: Any, form: FormData) -> int:
        to = str(form.get("to") or "")[:20]
        answer = form.get("public_answer")
        reason = form.get("reason")
        return problems.change_problem_status(
            session,
            problem=problem,
            actor=user,
            to=to,
            public_answer=str(answer)[:20_000] if answer is not None else None,
            reason=str(reason)[:20_000] if reason is not None else None,
        )

    return await _act(request, change, "statut")


async def merge(request: Request) -> Response:
    merged_into: list[int] = []

    def change(session: Session, problem: Any, user: Any, form: FormData) -> int:
        raw = str(form.get("target") or "")
        if not raw.isdigit() or len(raw) > 12:
            raise TriageError("bad_merge", "choose a problem")
        target = data.load_problem(session, user, int(raw))
        merged_into.append(int(raw))
        return problems.merge_problems(session, source=problem, target=target, actor=user)

    response = await _act(request, change, "fusion")
    if merged_into and "fait=fusion" in response.headers.get("location", ""):
        # The merged problem now leads to its target: go there directly.
        return RedirectResponse(f"/console/problems/{merged_into[0]}?fait=fusion", 303)
    return response


def _link(session: Session, problem: Any, user: Any, form: FormData) -> int:
    ids = _ids(form.getlist("ids"))
    if not ids:
        raise TriageError("selection", "tick at least one submission")
    return problems.link_feedback(session, problem=problem, actor=user, feedback_ids=ids).linked


async def link(request: Request) -> Response:
    return await _act(request, _link, "lies")


async def link_chosen(request: Request) -> Response:
    """The same, the problem chosen in the form (`problem`): the submission page, the inbox."""
    require(can_triage, require_user(request))
    form = await request.form()
    raw = str(form.get("problem") or "")
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(400)
    return await _act(request, _link, "lies", ident=int(raw))


async def unlink(request: Request) -> Response:
    def change(session: Session, problem: Any, user: Any, form: FormData) -> int:
        ids = _ids(form.getlist("ids"))
        if not ids:
            raise TriageError("selection", "tick at least one submission")
        return problems.unlink_feedback(session, problem=problem, actor=user, feedback_ids=ids)

    return await _act(request, change, "retires")


base = "/console/problems/{problem_id:id}"
routes = [
    Route("/console/problems/link", link_chosen, methods=["POST"], name="problems_link"),
    Route(base + "/status", change_status, methods=["POST"], name="problem_status"),
    Route(base + "/merge", merge, methods=["POST"], name="problem_merge"),
    Route(base + "/link", link, methods=["POST"], name="problem_link"),
    Route(base + "/unlink", unlink, methods=["POST"], name="problem_unlink"),
]
