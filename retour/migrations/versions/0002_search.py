"""Full-text search on feedback comments and the inbox's indexes.

Hand-written (0001 is generated from the models): full-text search is dialect-specific.

- SQLite: an FTS5 external-content table over `feedback.comment` (the text is stored once,
  in `feedback`), kept in step by triggers; `unicode61 remove_diacritics 2` so that
  "etape" finds "étape".
- PostgreSQL: a text search configuration `retour_french`, French stemming after `unaccent`
  when that extension is available (it ships with PostgreSQL and is trusted, so the
  database owner may install it), a stored generated column
  `comment_tsv = to_tsvector('retour_french', comment)` (not in the models: PostgreSQL only,
  never written by the application) and a GIN index on it.

Plus composite indexes that let the inbox page by (received_at, id) within a status or a
procedure, and the triggers that keep `feedback_status_count` (submissions per procedure and
status, honeypot excluded): the inbox's counts read a few rows instead of counting a
ministry's whole index. SQLite: row triggers with UPSERT. PostgreSQL: statement triggers with
transition tables, so a batch insert (the ingest's group commit) touches each counter once,
and an update that leaves status, honeypot and procedure alone touches none.

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
COUNT_SQLITE_UP = [
    """CREATE TRIGGER feedback_count_insert AFTER INSERT ON feedback WHEN NOT new.honeypot BEGIN
        INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count)
            VALUES (new.procedure_id, new.status, new.ministry_id, 1)
            ON CONFLICT (procedure_id, status) DO UPDATE SET count = count + 1;
    END""",
    """CREATE TRIGGER feedback_count_delete AFTER DELETE ON feedback WHEN NOT old.honeypot BEGIN
        UPDATE feedback_status_count SET count = count - 1
            WHERE procedure_id = old.procedure_id AND status = old.status;
    END""",
    """CREATE TRIGGER feedback_count_update AFTER UPDATE OF status, honeypot, procedure_id
    ON feedback BEGIN
        UPDATE feedback_status_count SET count = count - 1
            WHERE NOT old.honeypot AND procedure_id = old.procedure_id AND status = old.status;
        INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count)
            SELECT new.procedure_id, new.status, new.ministry_id, 1 WHERE NOT new.honeypot
            ON CONFLICT (procedure_id, status) DO UPDATE SET count = count + 1;
    END""",
]
COUNT_POSTGRES_UP = [
    """CREATE FUNCTION feedback_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count)
                SELECT procedure_id, status, min(ministry_id), count(*) FROM new_rows
                WHERE NOT honeypot GROUP BY procedure_id, status
                ON CONFLICT (procedure_id, status)
                DO UPDATE SET count = feedback_status_count.count + EXCLUDED.count;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE feedback_status_count c SET count = c.count - d.n
                FROM (SELECT procedure_id, status, count(*) AS n FROM old_rows
                      WHERE NOT honeypot GROUP BY procedure_id, status) d
                WHERE c.procedure_id = d.procedure_id AND c.status = d.status;
        ELSE
            -- Only rows whose status, honeypot flag or procedure changed count.
            INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count)
                SELECT procedure_id, status, min(ministry_id), sum(delta) FROM (
                    SELECT o.procedure_id, o.status, o.ministry_id, -1 AS delta
                    FROM old_rows o JOIN new_rows n ON n.id = o.id
                    WHERE NOT o.honeypot AND (o.status, o.honeypot, o.procedure_id)
                          IS DISTINCT FROM (n.status, n.honeypot, n.procedure_id)
                    UNION ALL
                    SELECT n.procedure_id, n.status, n.ministry_id, 1
                    FROM old_rows o JOIN new_rows n ON n.id = o.id
                    WHERE NOT n.honeypot AND (o.status, o.honeypot, o.procedure_id)
                          IS DISTINCT FROM (n.status, n.honeypot, n.procedure_id)
                ) changed
                GROUP BY procedure_id, status
                ON CONFLICT (procedure_id, status)
                DO UPDATE SET count = feedback_status_count.count + EXCLUDED.count;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER feedback_count_insert AFTER INSERT ON feedback
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION feedback_count_apply()""",
    """CREATE TRIGGER feedback_count_update AFTER UPDATE ON feedback
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION feedback_count_apply()""",
    """CREATE TRIGGER feedback_count_delete AFTER DELETE ON feedback
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION feedback_count_apply()""",
]
# Rows stored before this migration.
COUNT_FILL = """INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count)
    SELECT procedure_id, status, min(ministry_id), count(*) FROM feedback
    WHERE NOT honeypot GROUP BY procedure_id, status"""
COUNT_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS feedback_count_insert",
    "DROP TRIGGER IF EXISTS feedback_count_delete",
    "DROP TRIGGER IF EXISTS feedback_count_update",
]
COUNT_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS feedback_count_insert ON feedback",
    "DROP TRIGGER IF EXISTS feedback_count_update ON feedback",
    "DROP TRIGGER IF EXISTS feedback_count_delete ON feedback",
    "DROP FUNCTION IF EXISTS feedback_count_apply()",
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
    # Stored, so that testing a row costs a comparison, not a parse of its comment (the
    # planner often walks the inbox index and tests each row until a page is full).
    "ALTER TABLE feedback ADD COLUMN comment_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('retour_french', comment)) STORED",
    "CREATE INDEX ix_feedback_comment_fts ON feedback USING gin (comment_tsv)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_feedback_comment_fts",
    "ALTER TABLE feedback DROP COLUMN IF EXISTS comment_tsv",
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
    op.execute("DELETE FROM feedback_status_count")
    op.execute(COUNT_FILL)
    for statement in COUNT_SQLITE_UP if dialect == "sqlite" else COUNT_POSTGRES_UP:
        op.execute(statement)
    for name, columns in INDEXES:
        op.create_index(name, "feedback", columns)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in COUNT_SQLITE_DOWN if dialect == "sqlite" else COUNT_POSTGRES_DOWN:
        op.execute(statement)
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="feedback")
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
