"""Full-text search on feedback comments and the inbox's indexes.

Hand-written (0001 is generated from the models): full-text search is dialect-specific.

- SQLite: an FTS5 external-content table over `feedback.comment` (the text is stored once,
  in `feedback`), kept in step by triggers; `unicode61 remove_diacritics 2` so that
  "etape" finds "étape".
- PostgreSQL: a text search configuration `retour_french`, French stemming after `unaccent`
  when that extension is available (it ships with PostgreSQL and is trusted, so the
  database owner may install it), and a GIN index on `to_tsvector('retour_french', comment)`;
  queries use the very same expression (retour/search.py), so no extra column is needed.

Plus composite indexes that let the inbox page by (received_at, id) within a status or a
procedure, and count statuses from the index alone.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE feedback_fts USING fts5(
        comment, content='feedback', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER feedback_fts_insert AFTER INSERT ON feedback BEGIN
        INSERT INTO feedback_fts(rowid, comment) VALUES (new.id, new.comment);
    END""",
    """CREATE TRIGGER feedback_fts_delete AFTER DELETE ON feedback BEGIN
        INSERT INTO feedback_fts(feedback_fts, rowid, comment)
            VALUES ('delete', old.id, old.comment);
    END""",
    """CREATE TRIGGER feedback_fts_update AFTER UPDATE OF comment ON feedback BEGIN
        INSERT INTO feedback_fts(feedback_fts, rowid, comment)
            VALUES ('delete', old.id, old.comment);
        INSERT INTO feedback_fts(rowid, comment) VALUES (new.id, new.comment);
    END""",
    # Rows stored before this migration.
    "INSERT INTO feedback_fts(feedback_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS feedback_fts_update",
    "DROP TRIGGER IF EXISTS feedback_fts_delete",
    "DROP TRIGGER IF EXISTS feedback_fts_insert",
    "DROP TABLE IF EXISTS feedback_fts",
]
POSTGRES_UP = [
    "CREATE TEXT SEARCH CONFIGURATION retour_french (COPY = pg_catalog.french)",
    """DO $$
    BEGIN
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
            CREATE EXTENSION IF NOT EXISTS unaccent;
            ALTER TEXT SEARCH CONFIGURATION retour_french
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
        END IF;
    END $$""",
    "CREATE INDEX ix_feedback_comment_fts ON feedback "
    "USING gin (to_tsvector('retour_french', comment))",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_feedback_comment_fts",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS retour_french",
]

# (name, columns): status tabs and status counts (index-only), procedure pages by
# (received_at, id), and the counts of every ministry for DINUM.
INDEXES = [
    ("ix_feedback_inbox_status", ["ministry_id", "status", "honeypot", "received_at", "id"]),
    ("ix_feedback_inbox_procedure", ["procedure_id", "received_at", "id"]),
    ("ix_feedback_status_all", ["status", "honeypot", "received_at", "id"]),
    ("ix_feedback_received", ["received_at", "id"]),
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP:
        op.execute(statement)
    for name, columns in INDEXES:
        op.create_index(name, "feedback", columns)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="feedback")
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
