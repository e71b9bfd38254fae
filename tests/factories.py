"""Helpers that put realistic rows in a test's real database."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import uuid
from typing import Any

from argon2 import PasswordHasher
from sqlmodel import Session, select

from retour.intake import feedback_row
from retour.models import Feedback, Ministry, Procedure, ProcedureOrigin, StaffUser

_counter = itertools.count(1)
# Cheap parameters: tests hash many passwords; production uses argon2's defaults.
_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def make_ministry(session: Session, **overrides: Any) -> Ministry:
    n = next(_counter)
    values: dict[str, Any] = {"slug": f"ministere-{n}", "name": f"Ministère n°{n}"}
    values.update(overrides)
    existing = session.exec(select(Ministry).where(Ministry.slug == values["slug"])).first()
    if existing:
        return existing
    ministry = Ministry(**values)
    session.add(ministry)
    session.commit()
    session.refresh(ministry)
    return ministry


def make_procedure(
    session: Session,
    *,
    origins: tuple[str, ...] = ("https://www.example.gouv.fr",),
    **overrides: Any,
) -> Procedure:
    n = next(_counter)
    if "ministry_id" not in overrides:
        overrides["ministry_id"] = make_ministry(session).id
    values: dict[str, Any] = {
        "id": f"demarche-{n}",
        "title": f"Demande de titre n°{n}",
        "url": "https://www.example.gouv.fr/demarche",
    }
    values.update(overrides)
    procedure = Procedure(**values)
    session.add(procedure)
    session.flush()
    for origin in origins:
        session.add(ProcedureOrigin(procedure_id=procedure.id, origin=origin))
    session.commit()
    session.refresh(procedure)
    return procedure


def make_feedback(
    session: Session, *, procedure: Procedure | None = None, **overrides: Any
) -> Feedback:
    procedure = procedure or make_procedure(session)
    values: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "receipt": secrets.token_hex(5).upper(),
        "procedure_id": procedure.id,
        "ministry_id": procedure.ministry_id,
        "satisfaction": 2,
        "kind": "malfunction",
        "comment": "Le bouton Valider ne fait rien à l'étape 3.",
        "page_url": "https://www.example.gouv.fr/demarche/etape-3",
        "page_origin": "https://www.example.gouv.fr",
        "origin_registered": True,
    }
    values.update(overrides)
    feedback = Feedback(**values)
    session.add(feedback)
    session.commit()
    session.refresh(feedback)
    return feedback


def make_user(
    session: Session,
    *,
    role: str = "agent",
    ministry: Ministry | None = None,
    password: str = "correct horse battery staple",
    **overrides: Any,
) -> StaffUser:
    n = next(_counter)
    if role != "admin" and ministry is None and "ministry_id" not in overrides:
        ministry = make_ministry(session)
    values: dict[str, Any] = {
        "email": f"agent{n}@example.gouv.fr",
        "password_hash": _hasher.hash(password),
        "role": role,
        "ministry_id": ministry.id if ministry else None,
    }
    values.update(overrides)
    user = StaffUser(**values)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def make_row(
    procedure: Procedure, comment: str = "Rien ne marche.", **overrides: Any
) -> dict[str, Any]:
    """A validated submission's row, as `ingest.submissions.store` hands it to the writer."""
    fields: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "comment": comment,
        "honeypot": False,
        "received_at": dt.datetime.now(dt.UTC),
        "procedure_id": procedure.id,
        "ministry_id": procedure.ministry_id,
        "satisfaction": 2,
        "kind": None,
        "contact_email": None,
        "page_url": None,
        "page_origin": None,
        "origin_registered": None,
        "locale": "fr",
        "channel": "online",
    }
    return feedback_row(**{**fields, **overrides})
