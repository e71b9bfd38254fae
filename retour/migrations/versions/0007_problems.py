"""Problems (what many citizens report, fixed once), their links, and incidents (spikes).

`problem_link.feedback_id` is the primary key: a submission belongs to at most one problem.
Nothing here touches `feedback` itself, so the ingest's insert costs what it did.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import retour.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, length: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, retour.models.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        _text("title", 200),
        sa.Column("description", sa.Text(), nullable=False),
        _text("status", 16),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("public_answer", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("planned_at"),
        _when("closed_at"),
        _when("answered_at"),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["merged_into_id"], ["problem.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_problem_ministry_id", "problem", ["ministry_id"])

    op.create_table(
        "problem_procedure",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        _text("procedure_id", 64),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"]),
        sa.PrimaryKeyConstraint("problem_id", "procedure_id"),
    )
    op.create_index("ix_problem_procedure_procedure_id", "problem_procedure", ["procedure_id"])

    op.create_table(
        "problem_link",
        sa.Column("feedback_id", BIG_ID, nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        _when("linked_at", nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        _when("emailed_at"),
        _when("email_claimed_at"),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"]),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.ForeignKeyConstraint(["linked_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("feedback_id"),
    )
    op.create_index("ix_problem_link_problem", "problem_link", ["problem_id", "linked_at"])

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("procedure_id", 64),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        _text("signal", 16),
        _when("started_at", nullable=False),
        _when("last_seen_at", nullable=False),
        _when("ended_at"),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        _when("alerted_at"),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"]),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_procedure_id", "incident", ["procedure_id"])
    op.create_index("ix_incident_ministry_id", "incident", ["ministry_id"])


def downgrade() -> None:
    op.drop_table("incident")
    op.drop_table("problem_link")
    op.drop_table("problem_procedure")
    op.drop_table("problem")
