"""Suggestions for staff: reports that say the same thing, and open problems they may belong
to, each with a reason in words (« 12 retours mentionnent « étape 3 » et « erreur » depuis le
30/11/2026 »). Read from the in-memory index (`retour.similar_index`), always within the
submission's own ministry; the rows shown are read from the database (spam, honeypot and the
submission itself left out).

A problem is represented by its title, its description and its linked reports' terms (those
shared by most of them count most), cached until the problem changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from sqlmodel import Session, col, select

from retour.models import Feedback, Problem, ProblemLink
from retour.similar_index import SimilarityIndex
from retour.similar_text import N_FEATURES, column, hashed, terms

REPORT_MINIMUM: Final = 0.25
PROBLEM_MINIMUM: Final = 0.3
SHOWN: Final = 10
# The inbox's « semblables à » filter lists at most this many reports.
SIMILAR_MAX: Final = 500
REASON_WINDOW: Final = dt.timedelta(days=30)
PROBLEM_SAMPLE: Final = 50


@dataclass(frozen=True)
class Reason:
    count: int
    words: list[str]
    since: dt.datetime


@dataclass(frozen=True)
class ProblemSuggestion:
    problem: Problem
    score: float
    words: list[str]


@dataclass
class Suggestions:
    ready: bool
    reports: list[tuple[Feedback, float]] = field(default_factory=list)
    total: int = 0
    reason: Reason | None = None
    problems: list[ProblemSuggestion] = field(default_factory=list)


def _rows(session: Session, ids: Sequence[int], exclude: int | None) -> dict[int, Feedback]:
    if not ids:
        return {}
    statement = select(Feedback).where(
        col(Feedback.id).in_(list(ids)),
        col(Feedback.honeypot).is_(False),
        Feedback.status != "spam",
    )
    return {f.id: f for f in session.exec(statement).all() if f.id != exclude}  # type: ignore[misc]


def similar_ids(
    index: SimilarityIndex, feedback: Feedback, *, limit: int = SIMILAR_MAX
) -> list[int]:
    """Ids of the reports closest to this one (itself included), best first."""
    words = list(terms(feedback.comment))
    found = index.similar(feedback.ministry_id, words, limit=limit, minimum=REPORT_MINIMUM)
    ids = [ident for ident, _ in found]
    if feedback.id is not None and feedback.id not in ids:
        ids.insert(0, feedback.id)
    return ids


def reason(
    index: SimilarityIndex, feedback: Feedback, neighbours: list[Feedback], now: dt.datetime
) -> Reason | None:
    """The words most of the closest reports share with this one, and how many reports of the
    last 30 days say all of them."""
    mine = terms(feedback.comment)
    if not mine or not neighbours:
        return None
    seen: Counter[str] = Counter()
    for other in neighbours[:SHOWN]:
        seen.update(term for term in terms(other.comment) if term in mine)
    if not seen:
        return None
    # Prefer a pair of words (« étape 3 ») to its parts; then the most shared terms.
    ranked = sorted(seen, key=lambda t: (-seen[t], -len(t.split()), t))
    chosen = _distinct(ranked)[:2]
    since = int((now - REASON_WINDOW).timestamp())
    count, earliest = index.count_with(feedback.ministry_id, [column(t) for t in chosen], since)
    if count < 2:
        return None
    return Reason(count, [mine[t] for t in chosen], dt.datetime.fromtimestamp(earliest, dt.UTC))


def suggest_for(
    session: Session, index: SimilarityIndex, feedback: Feedback, *, now: dt.datetime
) -> Suggestions:
    """Similar reports and open problems for one submission's page."""
    if not index.ready:
        return Suggestions(ready=False)
    suggestions = Suggestions(ready=True)
    if not feedback.comment:
        return suggestions
    found = index.similar(
        feedback.ministry_id,
        list(terms(feedback.comment)),
        limit=SIMILAR_MAX,
        minimum=REPORT_MINIMUM,
    )
    scores = dict(found)
    ids = [ident for ident, _ in found]
    if feedback.id not in scores:
        ids.insert(0, feedback.id)  # type: ignore[arg-type]
    shown = _rows(session, ids[: SHOWN * 2], feedback.id)
    ordered = [shown[i] for i in ids if i in shown][:SHOWN]
    suggestions.reports = [(f, scores.get(f.id, 0.0)) for f in ordered]  # type: ignore[arg-type]
    suggestions.total = max(0, len(ids) - 1)
    suggestions.reason = reason(index, feedback, ordered, now)
    suggestions.problems = problems_for(session, index, [feedback]).get(feedback.id, [])  # type: ignore[arg-type]
    return suggestions


# --- Problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ProblemSpace:
    problems: list[Problem]
    matrix: Any  # CSR (problems × features), rows L2-normalised, IDF-weighted
    words: list[set[str]]  # each problem's most shared terms


_cache: dict[tuple[int, int], tuple[tuple[Any, ...], _ProblemSpace]] = {}


def _problem_terms(session: Session, problem: Problem) -> dict[str, float]:
    linked = (
        select(Feedback.comment)
        .join(ProblemLink, col(ProblemLink.feedback_id) == Feedback.id)
        .where(ProblemLink.problem_id == problem.id, Feedback.comment != "")
        .order_by(col(ProblemLink.linked_at).desc())
        .limit(PROBLEM_SAMPLE)
    )
    comments = list(session.exec(linked).all())
    weights: Counter[str] = Counter()
    for comment in comments:
        weights.update(terms(comment).keys())
    total = max(1, len(comments))
    # A term of the title or description counts as if every linked report said it.
    for term in terms(f"{problem.title} {problem.description}"):
        weights[term] += total
    return {term: count / total for term, count in weights.items()}


def _space(session: Session, index: SimilarityIndex, ministry_id: int) -> _ProblemSpace:
    statement = select(Problem).where(
        Problem.ministry_id == ministry_id,
        col(Problem.merged_into_id).is_(None),
        col(Problem.status).in_(("open", "planned")),
    )
    found = list(session.exec(statement).all())
    key = (id(index), ministry_id)
    stamp = tuple((p.id, p.updated_at) for p in found)
    hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    shard = index.shards.get(ministry_id)
    vectors, words = [], []
    for problem in found:
        weighted = _problem_terms(session, problem)
        # The terms a third of its reports (or its title) say: those quoted in a reason.
        words.append({term for term, weight in weighted.items() if weight >= 0.3})
        vectors.append(
            sp.csr_matrix(
                (
                    np.array(list(weighted.values()), dtype=np.float32),
                    (np.zeros(len(weighted), dtype=np.int64), [column(t) for t in weighted]),
                ),
                shape=(1, N_FEATURES),
            )
        )
    stacked = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    if vectors:
        stacked = sp.vstack(vectors, format="csr")
        if shard is not None:
            stacked = stacked.multiply(shard.idf).tocsr()
        norms = np.sqrt(np.asarray(stacked.multiply(stacked).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        stacked = (sp.diags(1 / norms) @ stacked).tocsr()
    space = _ProblemSpace(found, stacked, words)
    if len(_cache) > 1000:
        _cache.clear()
    _cache[key] = (stamp, space)
    return space


def problems_for(
    session: Session, index: SimilarityIndex, rows: Sequence[Feedback], *, limit: int = 3
) -> dict[int, list[ProblemSuggestion]]:
    """For each submission with a comment, the open problems it most resembles."""
    out: dict[int, list[ProblemSuggestion]] = {}
    by_ministry: dict[int, list[Feedback]] = {}
    for row in rows:
        if row.comment and row.id is not None:
            by_ministry.setdefault(row.ministry_id, []).append(row)
    for ministry_id, items in by_ministry.items():
        space = _space(session, index, ministry_id)
        if not space.problems:
            continue
        shard = index.shards.get(ministry_id)
        found = [terms(row.comment) for row in items]
        queries = hashed([list(t) for t in found]).astype(np.float32).tocsr()  # type: ignore[attr-defined]
        queries.data[:] = 1.0
        if shard is not None:
            queries = queries.multiply(shard.idf).tocsr()
        norms = np.sqrt(np.asarray(queries.multiply(queries).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        scores = (sp.diags(1 / norms) @ queries @ space.matrix.T).toarray()
        for i, row in enumerate(items):
            best = [j for j in np.argsort(-scores[i])[:limit] if scores[i, j] >= PROBLEM_MINIMUM]
            if best:
                out[row.id] = [  # type: ignore[index]
                    ProblemSuggestion(
                        space.problems[j],
                        float(scores[i, j]),
                        _shared_words(found[i], space.words[j]),
                    )
                    for j in best
                ]
    return out


def _shared_words(mine: dict[str, str], theirs: set[str]) -> list[str]:
    shared = sorted((term for term in mine if term in theirs), key=lambda t: (-len(t.split()), t))
    return [mine[t] for t in _distinct(shared)[:3]]


def _distinct(ranked: list[str]) -> list[str]:
    """Terms in order, leaving out a word already said inside a kept pair (and the reverse)."""
    kept: list[str] = []
    for term in ranked:
        if not any(term in other.split() or other in term.split() for other in kept):
            kept.append(term)
    return kept


def candidates_for_problem(
    session: Session, index: SimilarityIndex, problem: Problem, *, limit: int = 20
) -> list[tuple[Feedback, float]]:
    """Reports of the ministry that resemble the problem and are linked to no problem yet."""
    if not index.ready:
        return []
    weighted = _problem_terms(session, problem)
    words = [term for term, weight in weighted.items() if weight >= 0.3]
    found = index.similar(problem.ministry_id, words, limit=limit * 5, minimum=REPORT_MINIMUM)
    rows = _rows(session, [ident for ident, _ in found], None)
    linked = set(
        session.exec(
            select(ProblemLink.feedback_id).where(col(ProblemLink.feedback_id).in_(list(rows)))
        ).all()
    )
    out = [(rows[i], score) for i, score in found if i in rows and i not in linked]
    return out[:limit]
