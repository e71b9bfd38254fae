"""Full-text search in comments: accents, stemming, hostile input, index kept in step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from console.inbox_query import InboxFilters, fetch_page
from retour.models import Feedback
from retour.search import fts5_expression, normalize_query, search_condition
from tests.factories import make_feedback, make_procedure

HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "AND",
    "OR OR",
    "NOT",
    "NEAR(",
    "NEAR(a b, 2",
    "comment:bouton",
    "^bouton",
    "bouton*",
    "(bouton",
    "bouton)",
    "a -b",
    '"unterminated',
    "!!!",
    "&|!():*<->",
    "\x00bouton",
    "bou\x00ton",
    "'; DROP TABLE feedback; --",
    "%_%",
    "\\",
    "x" * 5000,
    "🙂",
    "<script>alert(1)</script>",
]


def search(session: Session, query: str, ministry_id: int) -> list[str]:
    filters = InboxFilters(q=normalize_query(query))
    page = fetch_page(session, ministry_ids=[ministry_id], filters=filters, size=100)
    return sorted(f.comment for f in page.rows)


@pytest.fixture
def corpus(session: Session) -> int:
    procedure = make_procedure(session)
    for comment in (
        "Le bouton Valider ne fait rien à l'étape 3.",
        "Les boutons sont trop petits sur mobile",
        "Impossible de télécharger le justificatif",
        "Très bonne démarche, merci",
        "",
    ):
        make_feedback(session, procedure=procedure, comment=comment)
    return procedure.ministry_id


def test_words_are_matched_whatever_their_accents(session, corpus) -> None:
    assert search(session, "etape", corpus) == ["Le bouton Valider ne fait rien à l'étape 3."]
    assert search(session, "ÉTAPE", corpus) == ["Le bouton Valider ne fait rien à l'étape 3."]
    assert search(session, "telecharger justificatif", corpus) == [
        "Impossible de télécharger le justificatif"
    ]


def test_plural_matches_singular(session, corpus) -> None:
    # PostgreSQL stems French; SQLite matches longer words as prefixes.
    assert search(session, "bouton", corpus) == [
        "Le bouton Valider ne fait rien à l'étape 3.",
        "Les boutons sont trop petits sur mobile",
    ]


def test_all_words_must_match(session, corpus) -> None:
    assert search(session, "bouton mobile", corpus) == ["Les boutons sont trop petits sur mobile"]
    assert search(session, "bouton absentword", corpus) == []


def test_french_stemming_on_postgresql(session, corpus, backend) -> None:
    if backend != "postgresql":
        pytest.skip("French stemming is PostgreSQL's")
    # "téléchargement" and "télécharger" share the French stem "télécharg".
    assert search(session, "téléchargement", corpus) == [
        "Impossible de télécharger le justificatif"
    ]
    assert search(session, "démarches", corpus) == ["Très bonne démarche, merci"]


@pytest.mark.parametrize("query", HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_hostile_queries_never_fail(session, corpus, query) -> None:
    results = search(session, query, corpus)
    assert isinstance(results, list)
    if set(re.findall(r"\w+", normalize_query(query))) == {"bouton"}:
        assert results, "the word in a hostile query is still searched"


def test_fts5_expression_quotes_every_word() -> None:
    assert fts5_expression('NEAR(a "b"') == '"NEAR"* "a" "b"'
    assert fts5_expression("étape 3") == '"étape"* "3"'
    assert fts5_expression("!!! ***") is None
    assert fts5_expression(" ".join(f"w{i}" for i in range(40))).count('"') == 24


def test_punctuation_only_matches_nothing(session, corpus, backend) -> None:
    assert search(session, "!!!", corpus) == []
    assert search_condition(backend, "   ") is None


def test_search_follows_updates_and_deletes(session, corpus, backend) -> None:
    feedback = session.exec(select(Feedback).where(Feedback.comment.like("%mobile%"))).one()
    feedback.comment = "Le site plante sur tablette"
    session.add(feedback)
    session.commit()
    assert search(session, "mobile", corpus) == []
    assert search(session, "tablette", corpus) == ["Le site plante sur tablette"]
    session.delete(feedback)
    session.commit()
    assert search(session, "tablette", corpus) == []
    if backend == "sqlite":
        # The external-content index agrees with its table (FTS5's own consistency check).
        session.execute(text("INSERT INTO feedback_fts(feedback_fts) VALUES ('integrity-check')"))


def test_search_respects_the_ministry(session, corpus) -> None:
    other = make_procedure(session)
    make_feedback(session, procedure=other, comment="bouton ailleurs")
    assert "bouton ailleurs" not in search(session, "bouton", corpus)
    assert search(session, "ailleurs", other.ministry_id) == ["bouton ailleurs"]


def test_both_sqlite_plans_agree(session, corpus, backend, monkeypatch) -> None:
    import console.inbox_query

    by_match = search(session, "bouton", corpus)
    # From one match on, walk the inbox index instead of fetching the matches.
    monkeypatch.setattr(console.inbox_query, "WALK_FROM", 1)
    assert search(session, "bouton", corpus) == by_match
    assert search(session, "bouton mobile", corpus) == ["Les boutons sont trop petits sur mobile"]
