"""`/console/alerts`: a staff member subscribes to (or leaves) email alerts.

Three kinds: an email on each batch of new submissions (all the procedures the member can
see, or chosen ones), a weekly digest, and incidents (`retour.spikes`: a spike of malfunction
reports or bad ratings on any of the member's procedures; followers of a procedure's new
submissions get its incidents too). A member only ever chooses among their own ministry's
procedures (all of them for DINUM admins); anything else posted is refused with 400.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import require_user
from console.database import run_db
from console.scope import CurrentUser, visible_ministry_ids
from console.templating import render, translate_for
from retour.models import AlertSubscription, Procedure


def _visible_procedures(session: Session, user: CurrentUser) -> list[Procedure]:
    statement = select(Procedure).where(col(Procedure.active).is_(True)).order_by(Procedure.title)
    visible = visible_ministry_ids(user)
    if visible is not None:
        statement = statement.where(col(Procedure.ministry_id).in_(sorted(visible)))
    return list(session.exec(statement).all())


def _load(session: Session, user: CurrentUser) -> dict[str, Any]:
    subscriptions = session.exec(
        select(AlertSubscription).where(AlertSubscription.user_id == user.id)
    ).all()
    new = {s.procedure_id for s in subscriptions if s.kind == "new"}
    return {
        "procedures": _visible_procedures(session, user),
        "new_scope": "all" if "*" in new else ("some" if new else "none"),
        "chosen": new - {"*"},
        "digest": any(s.kind == "digest" for s in subscriptions),
        "incident": any(s.kind == "incident" for s in subscriptions),
    }


def _save(
    session: Session,
    user: CurrentUser,
    *,
    scope: str,
    chosen: set[str],
    digest: bool,
    incident: bool = False,
) -> bool:
    allowed = {p.id for p in _visible_procedures(session, user)}
    if not chosen <= allowed:
        return False
    session.exec(delete(AlertSubscription).where(col(AlertSubscription.user_id) == user.id))
    if scope == "all":
        session.add(AlertSubscription(user_id=user.id, kind="new", procedure_id="*"))
    elif scope == "some":
        for procedure_id in sorted(chosen):
            session.add(AlertSubscription(user_id=user.id, kind="new", procedure_id=procedure_id))
    if digest:
        session.add(AlertSubscription(user_id=user.id, kind="digest", procedure_id="*"))
    if incident:
        session.add(AlertSubscription(user_id=user.id, kind="incident", procedure_id="*"))
    return True


async def alerts_page(request: Request) -> Response:
    user = require_user(request)
    _ = translate_for(request)
    saved = request.query_params.get("saved") == "1"
    return render(
        request,
        "console/alerts.html",
        {
            **(await run_db(request, _load, user)),
            "flash": {"type": "success", "text": _("Vos alertes sont enregistrées.")}
            if saved
            else None,
        },
    )


async def alerts_save(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    scope = str(form.get("new_scope", "none"))
    if scope not in ("none", "all", "some"):
        raise HTTPException(400, "Choix d’alerte inconnu.")
    chosen = {str(value) for value in form.getlist("procedure")} if scope == "some" else set()
    ok = await run_db(
        request,
        _save,
        user,
        scope=scope,
        chosen=chosen,
        digest=form.get("digest") == "1",
        incident=form.get("incident") == "1",
    )
    if not ok:
        raise HTTPException(400, "Vous ne pouvez suivre que les démarches de votre ministère.")
    return RedirectResponse("/console/alerts?saved=1", status_code=303)


routes = [
    Route("/console/alerts", alerts_page, name="alerts"),
    Route("/console/alerts", alerts_save, methods=["POST"], name="alerts_save"),
]
