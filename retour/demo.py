"""`retour demo`: a year of realistic data, deterministic (seeded) and loaded at most once.

The register comes from data/demo_procedures.csv through the same import as real files;
staff accounts through `create_user`; comments through the same cleaning and masking as
real submissions. The bulk (submissions, impressions, history) goes in with SQLAlchemy
Core batch inserts: one ORM object per row would take minutes instead of seconds.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from retour import demo_data as words
from retour import demo_observatory, demo_problems, stats
from retour.accounts import create_user
from retour.db import session_scope
from retour.demo_feedback import Generated, generate
from retour.importer import ProcedureRow, apply_import, origin_of, parse_procedures
from retour.models import (
    AuditEvent,
    Feedback,
    FeedbackNote,
    FeedbackTag,
    ImpressionCount,
    Ministry,
    Procedure,
    ProcedureOrigin,
    PublicAnswer,
    StaffUser,
    utcnow,
)
from retour.passwords import hash_password

SEED: Final = 20250101
CSV_PATH: Final = Path(__file__).parent / "data" / "demo_procedures.csv"
# A marker row: the demo is loaded once, whatever happens to its data afterwards.
MARKER: Final = {"entity": "demo", "entity_id": "demo", "action": "load"}  # an AuditEvent
TARGET_SUBMISSIONS: Final = 22_000


class DemoConflict(Exception):
    """The database already holds rows the demo would create (without being the demo)."""


@dataclass(frozen=True)
class DemoProcedure:
    row: ProcedureRow
    weight: float
    bad: float
    average: float
    subject: str
    live_since: int | None  # days ago the button went live; None: never deployed
    stopped: int | None  # days ago the button was taken down; None: still live
    season: dict[int, float]  # month → factor; key 0 is every other month

    def live(self, days_ago: int) -> bool:
        if self.live_since is None or days_ago > self.live_since:
            return False
        return self.stopped is None or days_ago > self.stopped


def demo_procedures() -> list[DemoProcedure]:
    data = CSV_PATH.read_bytes()
    parsed = parse_procedures(data)
    if not parsed.ok:  # a broken bundled file is a bug, not a user error
        raise RuntimeError("; ".join(str(error) for error in parsed.errors))
    extras = {
        line["id"]: line for line in csv.DictReader(io.StringIO(data.decode()), delimiter=";")
    }
    result = []
    for row in parsed.rows:
        extra = extras[row.id]
        season: dict[int, float] = {0: 1.0}
        for part in filter(None, extra["season"].split(",")):
            months, factor = part.split(":")
            if months == "*":
                season[0] = float(factor)
                continue
            first, last = (int(m) for m in months.split("-"))
            season.update({month: float(factor) for month in range(first, last + 1)})
        result.append(
            DemoProcedure(
                row=row,
                weight=float(extra["weight"]),
                bad=float(extra["bad"]),
                average=float(extra["average"]),
                subject=extra["subject"],
                live_since=int(extra["live_since"]) if extra["live_since"] else None,
                stopped=int(extra["stopped"]) if extra["stopped"] else None,
                season=season,
            )
        )
    return result


def agent_email(ministry_slug: str) -> str:
    """agent.<first meaningful word>@demo.gouv.fr: agent.justice, agent.economie…"""
    stop = {"ministere", "de", "du", "des", "la", "l", "services"}
    word = next((w for w in ministry_slug.split("-") if w not in stop), ministry_slug)
    return f"agent.{word}@demo.gouv.fr"


def logins_text() -> str:
    lines = [f"Demo logins (password for every account: {words.DEMO_PASSWORD}):"]
    for role, email, ministry in words.LOGINS:
        lines.append(f"  {role:<15} {email:<34} {ministry or 'DINUM: every ministry'}")
    lines.append("  Every other ministry has an agent too, e.g. agent.justice@demo.gouv.fr.")
    return "\n".join(lines)


def load_demo(
    engine: Engine,
    *,
    now: dt.datetime | None = None,
    public_url: str | None = None,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Load the demo unless it is there already; returns what to print."""
    say = progress or (lambda _text: None)
    now = now or utcnow()
    procedures = demo_procedures()
    with Session(engine) as session:
        if session.exec(select(AuditEvent.id).filter_by(**MARKER)).first() is not None:
            origin = _register_demo_origin(session, procedures[0].row.id, public_url)
            if origin is None:
                return "Demo data already loaded: nothing changed.\n" + logins_text()
            session.commit()
            return (
                f"Demo data already loaded; {origin} registered for the /demo page.\n"
                + logins_text()
            )
        _check_conflicts(session, procedures)

    rng = random.Random(SEED)
    with session_scope(engine) as session:
        say("Register: ministries and procedures…")
        rows = [p.row for p in procedures]
        if public_url:
            # The /demo page shows the first procedure's button on this service's own
            # origin: register it there, as a ministry would register its site.
            first = rows[0]
            extra = origin_of(public_url)
            if extra and extra not in first.origins:
                rows[0] = dataclasses.replace(first, origins=(*first.origins, extra))
        apply_import(session, rows, actor_label="demo")
        ministries = {m.slug: m for m in session.exec(select(Ministry)).all()}
        agents = _create_users(session, ministries)
        say("Submissions of the last 12 months…")
        ministry_ids = {slug: m.id for slug, m in ministries.items() if m.id is not None}
        generated = generate(
            rng, procedures, agents, ministry_ids, now=now, target=TARGET_SUBMISSIONS * scale
        )
        connection = session.connection()
        count = _insert_all(connection, generated)
        say("Problems, and a spike in progress…")
        demo_problems.add_problems(session, rng, now)
        session.add(
            AuditEvent(
                actor_label="demo",
                entity=MARKER["entity"],
                entity_id=MARKER["entity_id"],
                action=MARKER["action"],
                detail=json.dumps({"seed": SEED}),
            )
        )
    demo_problems.record_spike(engine, now)
    say("Public figures…")
    _refresh_stats(engine, now)
    say("Observatory: declared indicators and two past editions…")
    demo_observatory.add_observatory(engine, now)
    return (
        f"Demo data loaded: {len(ministries)} ministries, {len(procedures)} procedures, "
        f"{count} submissions.\n" + logins_text()
    )


def _register_demo_origin(
    session: Session, procedure_id: str, public_url: str | None
) -> str | None:
    """Register the service's own origin for the procedure the /demo page shows, if it is
    new (the service now runs on another port): the origin added, or None."""
    origin = origin_of(public_url) if public_url else None
    if origin is None or session.get(ProcedureOrigin, (procedure_id, origin)) is not None:
        return None
    session.add(ProcedureOrigin(procedure_id=procedure_id, origin=origin))
    return origin


def _check_conflicts(session: Session, procedures: list[DemoProcedure]) -> None:
    ids = [p.row.id for p in procedures]
    taken = session.exec(select(Procedure.id).where(col(Procedure.id).in_(ids))).first()
    if taken is not None:
        raise DemoConflict(
            f"the database already has a procedure {taken!r} that the demo would overwrite; "
            "load the demo into an empty database"
        )
    email = session.exec(
        select(StaffUser.email).where(col(StaffUser.email).like("%@demo.gouv.fr"))
    ).first()
    if email is not None:
        raise DemoConflict(f"the database already has the account {email}; use an empty database")


def _create_users(session: Session, ministries: dict[str, Ministry]) -> dict[int, int]:
    """The printed logins plus one agent per ministry; returns ministry id → agent id."""
    wanted: list[tuple[str, str, str | None]] = list(words.LOGINS)
    listed = {email for _, email, _ in wanted}
    for ministry_slug in sorted(ministries):
        if agent_email(ministry_slug) not in listed:
            wanted.append(("agent", agent_email(ministry_slug), ministry_slug))
    agents: dict[int, int] = {}
    shared_hash = hash_password(words.DEMO_PASSWORD)
    for role, email, slug in wanted:
        ministry_id = ministries[slug].id if slug else None
        user = create_user(
            session,
            email=email,
            password=words.DEMO_PASSWORD,
            role=role,
            ministry_id=ministry_id,
            actor_label="demo",
            password_hash=shared_hash,
        )
        if role == "agent" and ministry_id is not None and user.id is not None:
            agents.setdefault(ministry_id, user.id)
    return agents


def _table(model: Any) -> Any:
    return model.__table__


def _insert_all(connection: Connection, generated: Generated) -> int:
    feedback = _table(Feedback)
    ids: list[int] = []
    for start in range(0, len(generated.feedback), 5000):
        batch = generated.feedback[start : start + 5000]
        # RETURNING in order: notes, answers, tags and history point at these ids.
        result = connection.execute(
            insert(feedback).returning(feedback.c.id, sort_by_parameter_order=True), batch
        )
        ids.extend(row[0] for row in result)

    def resolve(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "feedback_id": ids[row["feedback_id"]]} for row in rows]

    for model, rows in ((FeedbackTag, generated.tags), (ImpressionCount, generated.impressions)):
        if rows:
            connection.execute(
                insert(_table(model)), resolve(rows) if model is FeedbackTag else rows
            )
    history = [{**e, "entity_id": str(ids[int(e["entity_id"])])} for e in generated.history]
    note_or_answer: tuple[tuple[Any, list[dict[str, Any]], str, str], ...] = (
        (FeedbackNote, generated.notes, "note", "note_id"),
        (PublicAnswer, generated.answers, "answer_publish", "answer_id"),
    )
    for model, rows, action, key in note_or_answer:
        if not rows:
            continue
        table = _table(model)
        ministry_of = [generated.feedback[row["feedback_id"]]["ministry_id"] for row in rows]
        rows = resolve(rows)
        result = connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        for row, ministry_id, (new_id,) in zip(rows, ministry_of, result, strict=True):
            history.append(
                {
                    "at": row.get("created_at") or row["published_at"],
                    "actor_id": row["author_id"],
                    "actor_label": "",
                    "ministry_id": ministry_id,
                    "entity": "feedback",
                    "entity_id": str(row["feedback_id"]),
                    "action": action,
                    "detail": json.dumps({key: new_id}),
                }
            )
    history.sort(key=lambda event: event["at"])
    connection.execute(insert(_table(AuditEvent)), history)
    return len(ids)


def _refresh_stats(engine: Engine, now: dt.datetime) -> None:
    # The submissions arrived with past `updated_at`s, behind the incremental watermark:
    # rebuild the public figures in full so the dashboard shows them at once.
    stats.refresh(engine, now=now, full=True)
