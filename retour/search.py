"""Full-text search in feedback comments: SQLite FTS5 or PostgreSQL's French stemming.

The schema side (the FTS5 table and its triggers; the `retour_french` text search
configuration and its GIN index) lives in migration 0002; this module turns what a person
typed into a condition on `feedback`. User input never reaches a search parser unescaped:
on SQLite every word becomes a quoted FTS5 string; on PostgreSQL `websearch_to_tsquery`
accepts any text without a syntax error (NUL and control characters are dropped first).
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import ColumnElement, and_, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from retour.models import Feedback

# Longer queries are cut: nobody searches feedback with a paragraph, and it bounds the work.
QUERY_MAX_LENGTH: Final = 200
# At most this many words reach FTS5 (each word is a term to intersect).
MAX_TERMS: Final = 12
# Words this short match as themselves; longer ones also match as prefixes ("bouton" finds
# "boutons"), a cheap stand-in for the stemming FTS5 lacks.
PREFIX_MIN_LENGTH: Final = 4


_WORD = re.compile(r"\w+", re.UNICODE)


def normalize_query(raw: str | None) -> str:
    """The query as we keep it: no NUL or control characters, trimmed, bounded."""
    if not raw:
        return ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in raw)
    return " ".join(cleaned.split())[:QUERY_MAX_LENGTH]


def fts5_expression(raw: str | None) -> str | None:
    """A safe FTS5 MATCH expression for `raw`, or None when it holds no word at all.

    Each word is wrapped in double quotes (so `AND`, `NEAR(`, `col:`, `*` or `"` lose any
    meaning) and the words are implicitly AND-ed.
    """
    words = _WORD.findall(normalize_query(raw))[:MAX_TERMS]
    if not words:
        return None
    terms = []
    for word in words:
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + "*" if len(word) >= PREFIX_MIN_LENGTH else quoted)
    return " ".join(terms)


def search_condition(
    dialect: str, raw: str | None, *, walk_index: bool = False
) -> ColumnElement[bool] | None:
    """A WHERE condition on `feedback` matching `raw`; None when there is nothing to search.

    A query with no searchable word (only punctuation, say) matches nothing rather than
    everything: the person asked for something specific.
    """
    query = normalize_query(raw)
    if not query:
        return None
    if dialect == "postgresql":
        # comment_tsv: the stored to_tsvector('retour_french', comment) of migration 0002.
        return and_(
            text(
                "feedback.comment_tsv @@ websearch_to_tsquery('retour_french', :search_q)"
            ).bindparams(search_q=query)
        )
    expression = fts5_expression(query)
    if expression is None:
        return and_(text("1 = 0"))
    matches = text("SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH :search_q").bindparams(
        search_q=expression
    )
    # `id + 0` is not an indexed column: SQLite then walks the inbox's own index, newest
    # first, and tests each row against the matches (built once), instead of fetching every
    # match and sorting them. Worth it when a word is common (see `sqlite_match_count`).
    ident = col(Feedback.id)
    key = ident + 0 if walk_index else ident
    return key.in_(matches)


def sqlite_match_count(connection: Connection | Session, raw: str | None, limit: int) -> int:
    """How many comments match, counting no further than `limit` (FTS5 only)."""
    expression = fts5_expression(raw)
    if expression is None:
        return 0
    statement = text(
        "SELECT count(*) FROM (SELECT 1 FROM feedback_fts WHERE feedback_fts MATCH :q LIMIT :n)"
    ).bindparams(q=expression, n=limit)
    return int(connection.execute(statement).scalar_one())
