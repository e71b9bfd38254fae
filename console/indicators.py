"""The observatory's indicators in the console: what a ministry declared, and its level.

Routes (reading: every role, own ministry only — DINUM sees all; writing:
`can_manage_procedures`, audited; another ministry's procedure answers 404):
`GET /console/indicators` ("indicators": every visible procedure, its levels, declarations
over a year old first), `GET/POST /console/procedures/{id}/indicators`
("procedure_indicators": the declaration form). The CSV upload is `console.indicators_import`.
Vocabulary, levels and goals: `retour.indicators`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import console.params  # noqa: F401  # registers the convertors
from console import procedures_data
from console.auth import require_user
from console.database import run_db, settings_of
from console.scope import CurrentUser, can_manage_procedures, require, scoped
from console.templating import locale_of, render, translate_for
from retour import indicators as ind
from retour.coverage import BUTTON_STATE_LABELS, button_states
from retour.figures import procedure_figures
from retour.indicators_store import Declared, declare, declared_for
from retour.models import Procedure, utcnow
from retour.page_loads import median_loads
from retour.typography import french_spacing

# The form's inputs per indicator: "<indicator>-value", "-detail", "-evidence"; help channels
# are checkboxes "help-value" (several), "help-none" and "accessibility-none" are checkboxes.


@dataclass(frozen=True)
class Measured:
    """A measured indicator on the console page (not declared: no evidence, no date)."""

    indicator: str
    shown: str
    rating: ind.Rating


def measured_for(session: Session, procedure_id: str, min_count: int) -> list[Measured]:
    connection = session.connection()
    figures = procedure_figures(connection, min_count=min_count, procedure_id=procedure_id)
    score = figures[0].satisfaction_score if figures else None
    state = button_states(connection, [procedure_id], now=utcnow())[procedure_id]
    load = median_loads(connection, utcnow().date(), procedure_id=procedure_id).get(procedure_id)
    return [
        Measured(
            "satisfaction",
            f"{score:.1f} / 10" if score is not None else "",
            ind.rate_satisfaction(score),
        ),
        Measured("button", state, ind.rate_button(state)),
        Measured(
            "performance",
            f"{load} ms" if load is not None else "",
            ind.rate_performance(load),
        ),
    ]


def message(code: str, locale: str) -> str:
    """What is wrong with a value, as a sentence in the reader's language."""
    french, english = ind.MESSAGES[code]
    text = english if locale == "en" else french_spacing(french)
    return text[0].upper() + text[1:] + "."


def read_form(
    form: FormData, locale: str
) -> tuple[dict[str, tuple[str, str, str]], dict[str, str], dict[str, Any]]:
    """(indicator → (value, detail, evidence) normalised, errors by input id, raw values)."""
    raw: dict[str, Any] = {}
    for name in ind.DECLARED:
        raw[f"{name}-value"] = str(form.get(f"{name}-value") or "").strip()
        raw[f"{name}-detail"] = str(form.get(f"{name}-detail") or "").strip()
        raw[f"{name}-evidence"] = str(form.get(f"{name}-evidence") or "").strip()
    channels = [str(c) for c in form.getlist("help-value")]
    raw["help-channels"] = channels
    raw["help-value"] = ind.NO_HELP if form.get("help-none") == "1" else " ".join(channels)
    if form.get("accessibility-none") == "1":
        raw["accessibility-detail"] = ind.NO_STATEMENT
    values: dict[str, tuple[str, str, str]] = {}
    errors: dict[str, str] = {}
    for name in ind.DECLARED:
        evidence = raw[f"{name}-evidence"]
        if len(evidence) > ind.MAX_EVIDENCE:
            errors[f"{name}-evidence"] = message("too_long", locale)
            continue
        try:
            value, detail = ind.normalise(name, raw[f"{name}-value"], raw[f"{name}-detail"])
        except ind.InvalidValue as exc:
            errors[f"{name}-{exc.field}"] = message(exc.code, locale)
            continue
        values[name] = (value, detail, evidence)
    return values, errors, raw


def save(
    session: Session,
    actor: CurrentUser,
    procedure_id: str,
    values: dict[str, tuple[str, str, str]],
) -> int:
    procedure = procedures_data.visible_procedure(session, actor, procedure_id)
    current = declared_for(session, [procedure_id])[procedure_id]
    changed = 0
    for name, (value, detail, evidence) in values.items():
        before = current[name]
        unchanged = (before.value, before.detail, before.evidence) == (value, detail, evidence)
        if unchanged and not before.stale:
            continue
        if not before.declared and not (value or detail):
            continue
        changed += declare(
            session,
            procedure_id=procedure_id,
            ministry_id=procedure.ministry_id,
            indicator=name,
            value=value,
            detail=detail,
            evidence=evidence,
            actor_id=actor.id,
            actor_label=actor.email,
        )
    return changed


def _page(
    session: Session, actor: CurrentUser, procedure_id: str, min_count: int
) -> tuple[Procedure, dict[str, Declared], list[Measured]]:
    procedure = procedures_data.visible_procedure(session, actor, procedure_id)
    declared = declared_for(session, [procedure_id])[procedure_id]
    return procedure, declared, measured_for(session, procedure_id, min_count)


def _context(
    procedure: Procedure, declared: dict[str, Declared], measured: list[Measured]
) -> dict[str, Any]:
    return {
        "nav": "procedures",
        "procedure": procedure,
        "declared": declared,
        "measured": measured,
        "ind": ind,
        "button_labels": BUTTON_STATE_LABELS,
        "caption_id": "indicateurs-legende",
    }


async def procedure_indicators(request: Request) -> Response:
    user = require_user(request)
    procedure_id = request.path_params["procedure_id"]
    min_count = settings_of(request).public_min_count
    procedure, declared, measured = await run_db(request, _page, user, procedure_id, min_count)
    context = _context(procedure, declared, measured)
    context["values"] = {
        **{f"{n}-value": d.value for n, d in declared.items()},
        **{f"{n}-detail": d.detail for n, d in declared.items()},
        **{f"{n}-evidence": d.evidence for n, d in declared.items()},
        "help-channels": declared["help"].value.split(),
    }
    context["errors"] = {}
    if request.method == "GET":
        if request.query_params.get("fait") == "1":
            _ = translate_for(request)
            context["flash"] = {"type": "success", "text": _("Les indicateurs sont enregistrés.")}
        return render(request, "procedures/indicators.html", context)
    require(can_manage_procedures, user)
    form = await request.form()
    values, errors, raw = read_form(form, locale_of(request))
    if errors:
        context["values"] = raw
        context["errors"] = errors
        return render(request, "procedures/indicators.html", context, status_code=400)
    await run_db(request, save, user, procedure_id, values)
    return RedirectResponse(
        f"/console/procedures/{procedure_id}/indicators?fait=1", status_code=303
    )


@dataclass(frozen=True)
class OverviewRow:
    id: str
    title: str
    declared: dict[str, Declared]

    @property
    def stale(self) -> int:
        return sum(d.stale for d in self.declared.values())

    @property
    def missing(self) -> int:
        return sum(not d.declared for d in self.declared.values())


def overview(session: Session, actor: CurrentUser) -> list[OverviewRow]:
    from sqlmodel import col, select

    query = scoped(
        select(Procedure.id, Procedure.title).where(col(Procedure.active).is_(True)),
        col(Procedure.ministry_id),
        actor,
    )
    procedures = list(session.exec(query).all())
    declared = declared_for(session, [pid for pid, _ in procedures])
    rows = [OverviewRow(pid, title, declared[pid]) for pid, title in procedures]
    # What needs renewing first, then what is missing.
    rows.sort(key=lambda r: (-r.stale, -r.missing, r.title, r.id))
    return rows


async def indicators_overview(request: Request) -> Response:
    user = require_user(request)
    rows = await run_db(request, overview, user)
    return render(
        request,
        "procedures/indicators_overview.html",
        {"nav": "procedures", "rows": rows, "ind": ind},
    )


routes = [
    Route("/console/indicators", indicators_overview, name="indicators"),
    Route(
        "/console/procedures/{procedure_id:procedure}/indicators",
        procedure_indicators,
        methods=["GET", "POST"],
        name="procedure_indicators",
    ),
]
