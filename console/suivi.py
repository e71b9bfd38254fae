"""`/suivi/{receipt}`: what became of one submission, for the citizen who holds its receipt.

The receipt is the only key (nothing else identifies the citizen), so the page shows what is
safe to show to whoever holds it: the procedure, the status in plain words, the dates and the
answer once published — its own, or that of the problem it was grouped into once that problem
is fixed (or will not be). Never the comment itself nor the contact email. No cookie, not cached,
not indexed. An unknown or malformed receipt is a 404 page.
"""

from __future__ import annotations

from typing import Any, Final

from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.database import run_db
from console.formatting import Formats
from console.templating import locale_of, render
from retour.i18n import LOCALES
from retour.models import Feedback, Procedure, PublicAnswer
from retour.problem_words import PUBLIC_PROBLEM_STATUS_LABELS
from retour.problems import problem_of
from retour.receipts import normalize_receipt

# What each status means to the citizen; the honeypot shows as "new", never as caught.
EXPLANATIONS: Final = {
    "new": ("Reçu", "Votre retour est bien enregistré. Il n’a pas encore été lu par l’équipe."),
    "acknowledged": ("Pris en compte", "L’équipe du ministère a lu votre retour."),
    "in_progress": ("En cours de traitement", "L’équipe travaille sur le problème signalé."),
    "resolved": ("Traité", "L’équipe considère que le problème signalé est réglé."),
    "rejected": ("Clos sans suite", "L’équipe a lu votre retour mais n’y donnera pas suite."),
    "spam": ("Non retenu", "Ce retour a été classé comme indésirable."),
}
HEADERS: Final = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _load(session: Session, receipt: str) -> dict[str, Any] | None:
    feedback = session.exec(select(Feedback).where(Feedback.receipt == receipt)).first()
    if feedback is None:
        return None
    procedure = session.get(Procedure, feedback.procedure_id)
    answer = session.exec(
        select(PublicAnswer).where(PublicAnswer.feedback_id == feedback.id)
    ).first()
    status = "new" if feedback.honeypot else feedback.status
    # The answer of the problem the report was grouped into, while that problem is closed.
    problem = None if feedback.honeypot or status == "spam" else problem_of(session, feedback.id)  # type: ignore[arg-type]
    return {
        "problem": problem if problem is not None and problem.answered_at else None,
        "receipt": receipt,
        "procedure_title": procedure.title if procedure else feedback.procedure_id,
        "status": status,
        "received_at": feedback.received_at,
        "acknowledged_at": None if feedback.honeypot else feedback.acknowledged_at,
        "updated_at": feedback.received_at if feedback.honeypot else feedback.updated_at,
        "answer": answer if answer is not None and status != "spam" else None,
        "rejection_reason": feedback.rejection_reason if status == "rejected" else None,
    }


async def suivi(request: Request) -> Response:
    receipt = normalize_receipt(request.path_params["receipt"])
    data = await run_db(request, _load, receipt) if receipt else None
    if data is None:
        raise HTTPException(404, "Aucun retour ne correspond à ce numéro de suivi.")
    label, explanation = EXPLANATIONS[data["status"]]
    context = {**data, "label": label, "explanation": explanation, "nav": "suivi"}
    context["problem_labels"] = PUBLIC_PROBLEM_STATUS_LABELS
    context["fmt"] = Formats(locale_of(request))
    return render(request, "public/suivi.html", context, headers=dict(HEADERS))


async def suivi_form(request: Request) -> Response:
    """`/suivi?numero=…` (the form on the page) goes to the receipt's own page."""
    typed = request.query_params.get("numero", "")
    receipt = normalize_receipt(typed) if typed else None
    if receipt:
        # The asked language travels with the redirect: citizen pages set no cookie.
        asked = request.query_params.get("lang")
        suffix = f"?lang={asked}" if asked in LOCALES else ""
        return RedirectResponse(f"/suivi/{receipt}{suffix}", status_code=303)
    return render(
        request,
        "public/suivi_form.html",
        {
            "fmt": Formats(locale_of(request)),
            "error": bool(typed),
            "typed": typed[:40],
            "nav": "suivi",
        },
        status_code=400 if typed else 200,
        headers=dict(HEADERS),
    )


routes = [
    Route("/suivi", suivi_form, name="suivi_form"),
    Route("/suivi/{receipt}", suivi, name="suivi"),
]
