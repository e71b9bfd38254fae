"""The similarity index and the suggestions built on it, on a real database."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy.engine import Engine
from sqlmodel import Session

from retour import problems, similar
from retour.models import Ministry, utcnow
from retour.similar_index import SimilarityIndex
from retour.similar_text import terms
from tests.factories import make_feedback, make_ministry, make_procedure, make_user

STEP_3 = [
    "Erreur à l'étape 3, le bouton Valider ne marche pas",
    "Étape 3 : une erreur quand je valide",
    "etape 3 erreur, impossible de continuer",
]
OTHER = ["Le paiement par carte est refusé", "Très bonne démarche, merci"]


def fill(session: Session, ministry: Ministry, comments: list[str]) -> list[int]:
    procedure = make_procedure(session, ministry_id=ministry.id)
    # A minute old: on PostgreSQL the index waits for ids to settle (retour.similar_index).
    at = utcnow() - dt.timedelta(minutes=1)
    return [
        make_feedback(session, procedure=procedure, comment=c, received_at=at).id for c in comments
    ]


def test_terms_fold_accents_drop_stop_words_and_pair_words() -> None:
    found = terms("À l'ÉTAPE 3, merci de corriger les erreurs")
    assert "etap 3" in found and found["etap 3"] == "étape 3"
    assert "erreur" in found  # « erreurs » stemmed
    assert not {"a", "l", "merci", "les", "de"} & set(found)


def test_similar_reports_rank_and_stay_within_the_ministry(
    engine: Engine, session: Session
) -> None:
    ministry, neighbour = make_ministry(session), make_ministry(session)
    ids = fill(session, ministry, STEP_3 + OTHER)
    foreign = fill(session, neighbour, STEP_3)
    index = SimilarityIndex()
    assert index.refresh(engine)
    found = index.similar(ministry.id, list(terms(STEP_3[0])))
    assert [i for i, _ in found][:1] == [ids[0]]
    assert set(i for i, _ in found) <= set(ids[:3])
    assert not set(i for i, _ in found) & set(foreign)


def test_the_index_catches_up_incrementally(engine: Engine, session: Session) -> None:
    ministry = make_ministry(session)
    fill(session, ministry, OTHER)
    index = SimilarityIndex()
    index.refresh(engine)
    assert index.similar(ministry.id, list(terms(STEP_3[0]))) == []
    added = fill(session, ministry, STEP_3)
    index.refresh(engine, every=0)
    assert {i for i, _ in index.similar(ministry.id, list(terms(STEP_3[0])))} == set(added)
    assert index.stats.last_update_rows == 3 and index.stats.documents == 5


def test_a_large_backlog_is_built_in_the_background(engine: Engine, session: Session) -> None:
    ministry = make_ministry(session)
    fill(session, ministry, STEP_3)
    index = SimilarityIndex(inline_max=1)
    index.refresh(engine)  # starts the thread, answers at once
    deadline = time.monotonic() + 30
    while not index.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index.ready and index.stats.documents == 3


def test_the_reason_names_the_shared_words_and_counts(engine: Engine, session: Session) -> None:
    ministry = make_ministry(session)
    ids = fill(session, ministry, STEP_3 + OTHER)
    index = SimilarityIndex()
    index.refresh(engine)
    feedback = session.get(similar.Feedback, ids[0])
    suggestions = similar.suggest_for(session, index, feedback, now=utcnow())
    assert suggestions.ready and suggestions.total == 2
    assert {f.id for f, _ in suggestions.reports} == set(ids[1:3])
    assert suggestions.reason is not None
    assert suggestions.reason.count == 3
    assert suggestions.reason.words == ["étape 3", "erreur"]


def test_spam_is_never_suggested(engine: Engine, session: Session) -> None:
    ministry = make_ministry(session)
    procedure = make_procedure(session, ministry_id=ministry.id)
    at = utcnow() - dt.timedelta(minutes=1)
    mine = make_feedback(session, procedure=procedure, comment=STEP_3[0], received_at=at)
    make_feedback(session, procedure=procedure, comment=STEP_3[1], status="spam", received_at=at)
    index = SimilarityIndex()
    index.refresh(engine)
    assert similar.suggest_for(session, index, mine, now=utcnow()).reports == []


def test_open_problems_are_suggested_with_their_words(engine: Engine, session: Session) -> None:
    ministry = make_ministry(session)
    ids = fill(session, ministry, STEP_3 + OTHER)
    agent = make_user(session, role="agent", ministry=ministry)
    procedure_id = session.get(similar.Feedback, ids[0]).procedure_id
    problem = problems.create_problem(
        session,
        actor=agent,
        ministry_id=ministry.id,
        title="Erreur à l'étape 3",
        procedure_ids=[procedure_id],
    )
    problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=ids[:2])
    session.commit()
    index = SimilarityIndex()
    index.refresh(engine)
    rows = [session.get(similar.Feedback, i) for i in (ids[2], ids[3])]
    found = similar.problems_for(session, index, rows)
    assert [s.problem.id for s in found[ids[2]]] == [problem.id]
    # Quoted as this report wrote them (« etape 3 »), each word once.
    assert found[ids[2]][0].words == ["etape 3", "erreur"]
    assert ids[3] not in found  # the payment report resembles no problem
    candidates = similar.candidates_for_problem(session, index, problem)
    assert [f.id for f, _ in candidates] == [ids[2]]  # linked ones left out
