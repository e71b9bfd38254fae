"""Email alerts for staff: new submissions on their procedures, and a weekly digest.

`dispatch(engine, settings)` does both; the console runs it every minute and `retour alerts
send` runs it once (for cron). Never twice, even with several processes: each run first
*claims* its work under the write lock of its state row (`stats_state` id 2) — the range of
submission ids above the watermark, or the ISO week of the digest — moves the watermark,
commits, and only then sends. A crash between the claim and the sending loses those alerts
rather than sending them twice; a failed email is logged and counted, not retried.

Submissions younger than `SETTLE` are left for the next run, so that one whose transaction
commits after a higher id's (PostgreSQL sequences) is not skipped; submissions older than
`MAX_AGE` (bulk imports, demo data) never alert.

Emails name the procedure, the rating and the kind, with a link to the console — never the
comment itself: the email leaves our system, the console keeps it behind sign-in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import click
from sqlalchemy import Date, bindparam, text, update
from sqlalchemy.engine import Connection, Engine

from retour.figures import procedure_figures
from retour.i18n import plural_translator
from retour.mailer import send_mail
from retour.models import utcnow
from retour.settings import Settings
from retour.stats import locked_state, state_table

log = logging.getLogger("retour.alerts")

ALERT_ROW: Final = 2
SETTLE: Final = dt.timedelta(seconds=10)
MAX_AGE: Final = dt.timedelta(days=1)
MAX_LISTED: Final = 50
# The alert emails are in French only: words that follow a count, without any catalog.
FRENCH: Final = plural_translator("fr", ())
RATINGS: Final = {1: "Mal", 2: "Moyennement", 3: "Bien"}
KIND_LABELS: Final = {
    "complaint": "réclamation",
    "change_request": "demande d’évolution",
    "malfunction": "dysfonctionnement",
    "omission": "information manquante",
    "accessibility": "problème d’accessibilité",
    "praise": "félicitations",
    "other": "autre",
    None: "non précisé",
}


@dataclass(frozen=True)
class Subscriber:
    user_id: int
    email: str
    role: str
    ministry_id: int | None
    procedures: frozenset[str]  # "*" for every procedure the member can see

    def wants(self, procedure_id: str, ministry_id: int) -> bool:
        if self.role != "admin" and self.ministry_id != ministry_id:
            return False  # never another ministry's submissions, whatever was subscribed
        return "*" in self.procedures or procedure_id in self.procedures


@dataclass(frozen=True)
class DispatchResult:
    new_submissions: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    digest_week: str | None = None
    incidents: int = 0
    problem_answers: int = 0


def subscribers(connection: Connection, kind: str) -> list[Subscriber]:
    rows = connection.execute(
        text(
            "SELECT u.id, u.email, u.role, u.ministry_id, s.procedure_id "
            "FROM alert_subscription s JOIN staff_user u ON u.id = s.user_id "
            "WHERE s.kind = :kind AND u.active ORDER BY u.id"
        ),
        {"kind": kind},
    ).all()
    grouped: dict[int, tuple[str, str, int | None, set[str]]] = {}
    for user_id, email, role, ministry_id, procedure_id in rows:
        grouped.setdefault(user_id, (email, role, ministry_id, set()))[3].add(procedure_id)
    return [
        Subscriber(user_id, email, role, ministry_id, frozenset(procedures))
        for user_id, (email, role, ministry_id, procedures) in grouped.items()
    ]


# --- New submissions ----------------------------------------------------------------------


def _claim_new(engine: Engine, now: dt.datetime) -> list[Any]:
    """Move the watermark past the settled new submissions and return them (one claim)."""
    with locked_state(engine, ALERT_ROW) as (connection, state):
        last = state.last_feedback_id
        if state.refreshed_at is None:
            # First run: start from now; the history never alerts.
            top = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM feedback")).scalar()
            _save(connection, last_feedback_id=top or 0, refreshed_at=now)
            return []
        top = connection.execute(
            text(
                "SELECT MAX(id) FROM feedback WHERE id > :last AND received_at <= :cutoff"
            ).bindparams(bindparam("cutoff", type_=state_table.c.refreshed_at.type)),
            {"last": last, "cutoff": now - SETTLE},
        ).scalar()
        if top is None:
            return []
        rows = connection.execute(
            text(
                "SELECT f.id, f.procedure_id, f.ministry_id, f.received_at, f.satisfaction, "
                "f.kind, f.status, f.honeypot, p.title FROM feedback f "
                "JOIN procedure p ON p.id = f.procedure_id "
                "WHERE f.id > :last AND f.id <= :top ORDER BY f.id"
            ),
            {"last": last, "top": top},
        ).all()
        _save(connection, last_feedback_id=top, refreshed_at=now)
    oldest = now - MAX_AGE
    return [
        row
        for row in rows
        if not row.honeypot and row.status != "spam" and _utc(row.received_at) >= oldest
    ]


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _save(connection: Connection, **values: Any) -> None:
    connection.execute(update(state_table).where(state_table.c.id == ALERT_ROW).values(**values))


def new_submission_email(settings: Settings, rows: list[Any]) -> tuple[str, str]:
    count = len(rows)
    subject = (
        "[Je fais un retour] 1 nouveau retour"
        if count == 1
        else f"[Je fais un retour] {count} nouveaux retours"
    )
    heading = FRENCH("{n} nouveau retour", "{n} nouveaux retours", count)
    lines = [f"{heading} sur les démarches que vous suivez :", ""]
    for row in rows[:MAX_LISTED]:
        lines.append(
            f"- {row.title} — avis : {RATINGS.get(row.satisfaction, '?')}, "
            f"type : {KIND_LABELS.get(row.kind, 'autre')}"
        )
        lines.append(f"  {settings.public_url}/console/feedback/{row.id}")
    if count > MAX_LISTED:
        others = FRENCH("{n} autre", "{n} autres", count - MAX_LISTED)
        lines.append(f"… et {others}, dans la console.")
    lines += ["", f"Gérer vos alertes : {settings.public_url}/console/alerts"]
    return subject, "\n".join(lines)


def _send_each(settings: Settings, messages: Iterable[tuple[str, str, str]]) -> tuple[int, int]:
    sent = failed = 0
    for to, subject, body in messages:
        try:
            send_mail(settings, to=to, subject=subject, body=body)
            sent += 1
        except Exception:  # one bad address or an SMTP hiccup must not stop the others
            log.exception("alert email to %s failed", to)
            failed += 1
    return sent, failed


# --- Weekly digest ------------------------------------------------------------------------


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _claim_digest(engine: Engine, now: dt.datetime) -> bool:
    """True once per ISO week, for exactly one process (the first run of a new week)."""
    week = iso_week(now.date())
    with locked_state(engine, ALERT_ROW) as (connection, state):
        if state.digest_week == week:
            return False
        first_ever = state.digest_week is None
        _save(connection, digest_week=week)
        return not first_ever


def digest_emails(
    connection: Connection, settings: Settings, today: dt.date
) -> list[tuple[str, str, str]]:
    """One email per digest subscriber: last week's figures for their procedures."""
    start = today - dt.timedelta(days=today.weekday() + 7)
    end = start + dt.timedelta(days=6)
    week_counts: dict[str, tuple[int, int]] = {}
    for procedure_id, count, bad in connection.execute(
        text(
            "SELECT procedure_id, SUM(count), SUM(bad) FROM procedure_day "
            "WHERE day >= :start AND day <= :end GROUP BY procedure_id"
        ).bindparams(bindparam("start", type_=Date()), bindparam("end", type_=Date())),
        {"start": start, "end": end},
    ):
        week_counts[procedure_id] = (int(count), int(bad))
    waiting: dict[str, int] = defaultdict(int)
    for procedure_id, count in connection.execute(
        text(
            "SELECT procedure_id, COUNT(*) FROM feedback WHERE status = 'new' AND NOT honeypot "
            "GROUP BY procedure_id"
        )
    ):
        waiting[procedure_id] = int(count)
    figures = procedure_figures(connection, min_count=settings.public_min_count)
    messages = []
    for subscriber in subscribers(connection, "digest"):
        mine = [f for f in figures if subscriber.wants(f.id, f.ministry_id)]
        if not mine:
            continue
        lines = [f"Semaine du {start:%d/%m/%Y} au {end:%d/%m/%Y}", ""]
        for figure in mine:
            count, bad = week_counts.get(figure.id, (0, 0))
            score = (
                f"{figure.satisfaction_score:.1f}/10".replace(".", ",")
                if figure.satisfaction_score is not None
                else "non publiée"
            )
            received = FRENCH("{n} retour", "{n} retours", count)
            lines.append(
                f"- {figure.title} : {received} dont {bad} « mal » ; "
                f"{waiting.get(figure.id, 0)} en attente de lecture ; note sur 12 mois : {score}"
            )
        lines += ["", f"La console : {settings.public_url}/console/"]
        lines.append(f"Gérer vos alertes : {settings.public_url}/console/alerts")
        messages.append(
            (subscriber.email, "[Je fais un retour] Votre bilan de la semaine", "\n".join(lines))
        )
    return messages


# --- Both, once ---------------------------------------------------------------------------


def dispatch(
    engine: Engine, settings: Settings, *, now: dt.datetime | None = None
) -> DispatchResult:
    """Send what is due: new-submission alerts, incident alerts (`retour.spikes`), problems'
    answers to the citizens who asked for one (`retour.problem_mail`), and the weekly digest
    once a week."""
    from retour import incident_alerts, problem_mail, spikes  # they import this module

    now = now or utcnow()
    rows = _claim_new(engine, now)
    messages: list[tuple[str, str, str]] = []
    if rows:
        with engine.connect() as connection:
            people = subscribers(connection, "new")
        for person in people:
            theirs = [r for r in rows if person.wants(r.procedure_id, r.ministry_id)]
            if theirs:
                messages.append((person.email, *new_submission_email(settings, theirs)))
    incidents = 0
    for incident_id in spikes.record(engine, now=now):
        if spikes.claim(engine, incident_id, now):
            incidents += 1
            with engine.connect() as connection:
                messages += incident_alerts.incident_emails(connection, settings, incident_id)
    answers = problem_mail.send_problem_answers(engine, settings, now=now)
    digest_week = None
    if _claim_digest(engine, now):
        digest_week = iso_week(now.date())
        with engine.connect() as connection:
            messages += digest_emails(connection, settings, now.date())
    sent, failed = _send_each(settings, messages)
    return DispatchResult(
        len(rows),
        sent + answers.sent,
        failed + answers.failed,
        digest_week,
        incidents,
        answers.sent,
    )


@click.group()
def alerts() -> None:
    """Email alerts to staff."""


@alerts.command("send")
def send_command() -> None:
    """Send the alerts that are due (new submissions, weekly digest) once."""
    from retour.cli import database, load_settings

    settings = load_settings()
    if not settings.smtp_host:
        raise click.ClickException("RETOUR_SMTP_HOST is not set: no email can be sent.")
    with database() as engine:
        result = dispatch(engine, settings)
    click.echo(
        f"{result.new_submissions} new submission(s); {result.emails_sent} email(s) sent, "
        f"{result.emails_failed} failed"
        + (f"; digest for {result.digest_week}" if result.digest_week else ""),
        err=True,
    )
