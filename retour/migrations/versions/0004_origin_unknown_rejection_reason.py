"""A submission's origin may be unknown; a rejection carries its public reason.

- `feedback.origin_registered` becomes nullable: NULL when the submission came with no page
  address (the hosted form opened without a `Referer`). Unknown is not unregistered: such
  submissions stay out of the « origine non enregistrée » filter. Rows stored before, whose
  `page_origin` is NULL, are set to NULL.
- `feedback.rejection_reason`: the short public reason staff give when they reject a
  submission, shown to the citizen on `/suivi/{receipt}`.

SQLite cannot drop a NOT NULL constraint with ALTER TABLE, and the usual copy of the table
would lose 0002's triggers and trip the foreign keys of notes, tags and answers. SQLite's own
documentation gives a simpler procedure for removing a NOT NULL constraint (ALTER TABLE,
"Making other kinds of table schema changes"): rewrite the table's definition in
`sqlite_schema` and bump `schema_version`, in one transaction. Nothing on disk changes.

Revision ID: 0004
Revises: 0003
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_NULL = re.compile(r"(origin_registered\s+BOOLEAN)\s+NOT\s+NULL", re.IGNORECASE)


def _sqlite_set_not_null(*, not_null: bool) -> None:
    connection = op.get_bind()
    sql = connection.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'feedback'")
    ).scalar_one()
    if not_null:
        changed = re.sub(r"(origin_registered\s+BOOLEAN)(?!\s+NOT)", r"\1 NOT NULL", sql, count=1)
    else:
        changed = NOT_NULL.sub(r"\1", sql, count=1)
    if changed == sql:
        return
    version = connection.execute(sa.text("PRAGMA schema_version")).scalar_one()
    connection.execute(sa.text("PRAGMA writable_schema = ON"))
    connection.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'feedback'"),
        {"sql": changed},
    )
    connection.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    connection.execute(sa.text("PRAGMA writable_schema = OFF"))
    check = connection.execute(sa.text("PRAGMA integrity_check")).scalar_one()
    if check != "ok":
        raise RuntimeError(f"integrity check after changing feedback.origin_registered: {check}")


def upgrade() -> None:
    op.add_column("feedback", sa.Column("rejection_reason", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_set_not_null(not_null=False)
    else:
        op.alter_column("feedback", "origin_registered", existing_type=sa.Boolean(), nullable=True)
    op.execute("UPDATE feedback SET origin_registered = NULL WHERE page_origin IS NULL")


def downgrade() -> None:
    op.execute("UPDATE feedback SET origin_registered = FALSE WHERE origin_registered IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_set_not_null(not_null=True)
    else:
        op.alter_column(
            "feedback", "origin_registered", existing_type=sa.Boolean(), nullable=False
        )
    op.drop_column("feedback", "rejection_reason")
