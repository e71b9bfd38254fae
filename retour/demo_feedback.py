"""The demo's year of traffic: submissions, their triage history, and button impressions.

Volumes follow each procedure's weight, the season, the day of the week and a slow growth
as the button spreads; ratings lean per procedure; statuses depend on age (old submissions
are mostly processed). Everything is drawn from the one seeded `random.Random`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from retour import demo_data as words
from retour.importer import origin_of
from retour.receipts import ALPHABET, LENGTH
from retour.redaction import clean_comment, mask

if TYPE_CHECKING:
    from retour.demo import DemoProcedure

DAYS: Final = 365
WEEKDAY: Final = (1.25, 1.2, 1.1, 1.1, 1.0, 0.6, 0.55)  # Monday first
HOURS: Final = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 8, 9, 11, 11, 10, 9, 8, 8, 9, 7, 4, 2)
# Share of submissions in each status, by age of the submission.
STATUS_BY_AGE: Final = (
    (30, {"new": 62, "acknowledged": 20, "in_progress": 12, "resolved": 5, "rejected": 1}),
    (90, {"new": 25, "acknowledged": 28, "in_progress": 15, "resolved": 25, "rejected": 7}),
    (DAYS, {"new": 12, "acknowledged": 25, "in_progress": 5, "resolved": 46, "rejected": 12}),
)


@dataclass
class Generated:
    # Rows for Core inserts. `feedback_id` in the dependants is an index into `feedback`,
    # replaced by the real id once the submissions are inserted; same for history entity_id.
    feedback: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    impressions: list[dict[str, Any]] = field(default_factory=list)
    # Submissions from unregistered pages, per (procedure, day, origin): those pages show
    # the button too, so they get impressions of their own.
    foreign: dict[tuple[str, dt.date, str], int] = field(default_factory=dict)


def generate(
    rng: random.Random,
    procedures: list[DemoProcedure],
    agents: dict[int, int],
    ministries: dict[str, int],
    *,
    now: dt.datetime,
    target: float,
) -> Generated:
    today = now.date()
    out = Generated()
    receipts: set[str] = set()
    expected = {
        (p.row.id, ago): _intensity(p, today - dt.timedelta(days=ago), ago)
        for p in procedures
        for ago in range(1, DAYS + 1)
    }
    base = target / max(sum(expected.values()), 1e-9)
    for procedure in procedures:
        ministry_id = ministries[procedure.row.ministry_slug]
        origins = procedure.row.origins
        # The first origin carries most traffic; the others share the rest.
        weights: list[float] = [1.0]
        if len(origins) > 1:
            weights = [0.8] + [0.2 / (len(origins) - 1)] * (len(origins) - 1)
        for ago in range(DAYS, 0, -1):
            mean = base * expected[(procedure.row.id, ago)]
            if mean == 0:
                continue
            day = today - dt.timedelta(days=ago)
            count = _poisson(rng, mean)
            for hour in rng.choices(range(24), weights=HOURS, k=count):
                at = dt.datetime.combine(day, dt.time(hour), dt.UTC) + dt.timedelta(
                    seconds=rng.randrange(3600), microseconds=rng.randrange(1_000_000)
                )
                origin = rng.choices(origins, weights=weights)[0]
                agent_id = agents.get(ministry_id)
                _submission(rng, out, procedure, ministry_id, agent_id, at, ago, origin, now,
                            receipts)  # fmt: skip
            _impressions(rng, out, procedure, day, mean, count, origins, weights, now)
    for (procedure_id, day, origin), count in sorted(out.foreign.items()):
        seen = min(dt.datetime.combine(day, dt.time(21, 30), dt.UTC), now)
        for event, total in (("view", count * rng.randint(30, 90)), ("open", count * 3)):
            out.impressions.append(
                {"procedure_id": procedure_id, "day": day, "origin": origin,
                 "event": event, "count": total, "last_seen_at": seen}
            )  # fmt: skip
    return out


def _intensity(procedure: DemoProcedure, day: dt.date, ago: int) -> float:
    if not procedure.live(ago):
        return 0.0
    growth = 0.7 + 0.4 * (DAYS - ago) / DAYS
    season = procedure.season.get(day.month, procedure.season[0])
    return procedure.weight * growth * WEEKDAY[day.weekday()] * season


def _submission(  # one submission, with its triage history when it is not new
    rng: random.Random, out: Generated, procedure: DemoProcedure, ministry_id: int,
    agent_id: int | None, at: dt.datetime, ago: int, origin: str, now: dt.datetime,
    receipts: set[str],
) -> None:  # fmt: skip
    index = len(out.feedback)
    draw = rng.random()
    satisfaction = (
        1 if draw < procedure.bad else 2 if draw < procedure.bad + procedure.average else 3
    )
    kinds = words.KIND_WEIGHTS[satisfaction]
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    honeypot = rng.random() < 0.008
    locale = "en" if rng.random() < (0.25 if procedure.row.id == "france-visas" else 0.03) else "fr"
    if honeypot:
        raw, kind = rng.choice(words.SPAM), None
    else:
        raw = _comment(rng, procedure, satisfaction, kind, locale)
    masked = mask(clean_comment(raw))
    registered = rng.random() >= 0.02
    if not registered:
        origin = rng.choice(words.FOREIGN_ORIGINS)
        key = (procedure.row.id, at.date(), origin)
        out.foreign[key] = out.foreign.get(key, 0) + 1
    page_url = (
        procedure.row.url
        if origin == origin_of(procedure.row.url)
        else (f"{origin}/{procedure.row.id}/etape-{rng.randint(1, 4)}")
    )
    status = "spam" if honeypot else _status(rng, ago, kind)
    acknowledged_at = updated_at = None
    if status != "new" and not honeypot:
        delay = dt.timedelta(hours=min(rng.lognormvariate(math.log(30), 1.1), 24 * 40))
        acknowledged_at = min(at + delay, now - dt.timedelta(minutes=5))
        updated_at = acknowledged_at
        if status in ("resolved", "rejected"):
            updated_at = min(acknowledged_at + dt.timedelta(days=rng.uniform(0.2, 20)), now)
    # Recent ones only: older addresses would be past their retention period already.
    wants_contact = satisfaction < 3 and raw and not honeypot and ago < 150 and rng.random() < 0.05
    out.feedback.append(
        {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "receipt": _receipt(rng, receipts),
            "procedure_id": procedure.row.id,
            "ministry_id": ministry_id,
            "received_at": at,
            "satisfaction": satisfaction,
            "kind": kind,
            "comment": masked.text,
            "pii_categories": " ".join(sorted(masked.categories)),
            # The address is purged once answered; open submissions may still hold it.
            "contact_email": f"usager.{index}@example.org"
            if wants_contact and status in ("new", "acknowledged", "in_progress")
            else None,
            "page_url": page_url,
            "page_origin": origin,
            "origin_registered": registered,
            "honeypot": honeypot,
            "locale": locale,
            "status": status,
            # Picked by position, not by the generator: the other rows stay as they were.
            "rejection_reason": REJECTION_REASONS[index % len(REJECTION_REASONS)]
            if status == "rejected" and not honeypot
            else None,
            "assignee_id": agent_id if status == "in_progress" and rng.random() < 0.7 else None,
            "acknowledged_at": acknowledged_at,
            "updated_at": updated_at or at,
        }
    )
    if acknowledged_at is not None and updated_at is not None and agent_id is not None:
        _triage(rng, out, index, ministry_id, agent_id, kind, status, acknowledged_at, updated_at)


# What staff tell the citizen when they close a submission without acting on it.
REJECTION_REASONS: Final = (
    "Ce point ne dépend pas de ce service : il relève de votre préfecture.",
    "Le fonctionnement décrit est celui prévu par la réglementation.",
    "Nous n’avons pas pu reproduire le problème ; il semble réglé depuis.",
)


def _comment(
    rng: random.Random, procedure: DemoProcedure, satisfaction: int, kind: str | None, locale: str
) -> str:
    if rng.random() > (0.75, 0.6, 0.45)[satisfaction - 1]:
        return ""
    if locale == "en":
        return rng.choice(words.ENGLISH[satisfaction])
    pool = words.CORES[kind or ("praise" if satisfaction == 3 else "other")]
    opening = rng.choice(words.OPENINGS) if rng.random() < 0.35 else ""
    parts: list[str] = []
    for core in rng.sample(pool, 2 if satisfaction == 1 and rng.random() < 0.3 else 1):
        parts.append(
            core.format(
                step=rng.choice(words.STEPS),
                document=rng.choice(words.DOCUMENTS),
                device=rng.choice(words.DEVICES),
                delay=rng.choice(words.DELAYS),
                subject=procedure.subject,
            )
            .replace("  ", " ")
            .replace(" .", ".")
        )
    if rng.random() < 0.4:
        parts.append(rng.choice(words.CLOSINGS[satisfaction]))
    if rng.random() < 0.02:
        parts.append(rng.choice(words.PERSONAL))
    text = " ".join(parts)
    if opening in ("Bonjour,", "Madame, Monsieur,"):
        return f"{opening}\n{text}"
    if opening.endswith((",", ":")):
        return f"{opening} {text[0].lower()}{text[1:]}"
    return f"{opening} {text}".strip()


def _status(rng: random.Random, ago: int, kind: str | None) -> str:
    shares = next(shares for limit, shares in STATUS_BY_AGE if ago <= limit)
    if rng.random() < 0.01:
        return "spam"  # off-topic or abusive, marked by staff
    status = rng.choices(list(shares), weights=list(shares.values()))[0]
    # Praise needs no work: acknowledged, seldom more.
    return "acknowledged" if kind == "praise" and status in ("in_progress", "rejected") else status


def _triage(  # status history, and sometimes a tag, a note, a public answer
    rng: random.Random, out: Generated, index: int, ministry_id: int, agent_id: int,
    kind: str | None, status: str, acknowledged_at: dt.datetime, updated_at: dt.datetime,
) -> None:  # fmt: skip
    path = {
        "acknowledged": ["acknowledged"],
        "in_progress": ["acknowledged", "in_progress"],
        "resolved": ["acknowledged", "in_progress", "resolved"],
        "rejected": ["rejected"],
        "spam": ["spam"],
    }[status]
    steps = len(path)
    before = "new"
    for step, after in enumerate(path):
        at = acknowledged_at + (updated_at - acknowledged_at) * (step / max(steps - 1, 1))
        event = {"at": at, "actor_id": agent_id, "actor_label": "", "ministry_id": ministry_id,
                 "entity": "feedback", "entity_id": str(index), "action": "status",
                 "detail": json.dumps({"from": before, "to": after})}  # fmt: skip
        out.history.append(event)
        before = after
    if kind in words.TAGS and rng.random() < 0.25:
        out.tags.append({"feedback_id": index, "tag": rng.choice(words.TAGS[kind])})
    if status != "spam" and rng.random() < 0.1:
        out.notes.append(
            {"feedback_id": index, "author_id": agent_id, "body": rng.choice(words.NOTES),
             "created_at": acknowledged_at + dt.timedelta(minutes=rng.randint(2, 240))}
        )  # fmt: skip
    if status == "resolved" and kind in words.ANSWERS and rng.random() < 0.15:
        date = f"{updated_at.day} {words.MONTHS[updated_at.month - 1]} {updated_at.year}"
        out.answers.append(
            {"feedback_id": index, "procedure_id": out.feedback[index]["procedure_id"],
             "ministry_id": ministry_id, "author_id": agent_id, "published_at": updated_at,
             "body": rng.choice(words.ANSWERS[kind]).format(date=date)}
        )  # fmt: skip


def _impressions(
    rng: random.Random, out: Generated, procedure: DemoProcedure, day: dt.date, mean: float,
    submissions: int, origins: tuple[str, ...], weights: list[float], now: dt.datetime,
) -> None:  # fmt: skip
    # Views ≫ opens ≫ submissions: most visitors never open the dialog.
    views = round(mean * rng.uniform(90, 160)) + rng.randint(0, 15)
    opens = max(submissions, round(mean * rng.uniform(2.5, 4.5)))
    seen = min(dt.datetime.combine(day, dt.time(21, 30), dt.UTC), now)
    for origin, share in zip(origins, weights, strict=True):
        for event, total in (("view", views), ("open", opens)):
            count = round(total * share)
            if count:
                out.impressions.append({"procedure_id": procedure.row.id, "day": day,
                                        "origin": origin, "event": event, "count": count,
                                        "last_seen_at": seen})  # fmt: skip


def _receipt(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "".join(rng.choice(ALPHABET) for _ in range(LENGTH))
        receipt = f"{code[: LENGTH // 2]}-{code[LENGTH // 2 :]}"
        if receipt not in taken:
            taken.add(receipt)
            return receipt


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones."""
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count
