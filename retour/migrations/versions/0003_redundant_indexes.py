"""Drop the two submission indexes that 0002's inbox indexes made redundant.

`ix_feedback_procedure_received (procedure_id, received_at)` is a prefix of
`ix_feedback_inbox_procedure (procedure_id, received_at, id)`, and
`ix_feedback_ministry_status (ministry_id, status)` of
`ix_feedback_inbox_status (ministry_id, status, honeypot, received_at, id)`: every query
either could serve is served by the longer one, and each cost every stored submission one
more index insert in the ingest's commit.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = [
    ("ix_feedback_procedure_received", ["procedure_id", "received_at"]),
    ("ix_feedback_ministry_status", ["ministry_id", "status"]),
]


def upgrade() -> None:
    for name, _columns in REDUNDANT:
        op.drop_index(name, table_name="feedback")


def downgrade() -> None:
    for name, columns in REDUNDANT:
        op.create_index(name, "feedback", columns)
