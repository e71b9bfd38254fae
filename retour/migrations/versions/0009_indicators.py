"""The observatory: quality indicators declared per procedure, and accessibility reports.

`procedure_indicator` holds one row per procedure and declared indicator
(`retour.indicators`), `indicator_edition` the quarterly editions (`retour.editions`);
`page_load_day` the pages' load times from the
`view` beacon (`retour.page_loads`); `procedure_day.accessibility` counts « Un problème d'accessibilité »
reports like the other kinds.

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import retour.models

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "procedure_indicator",
        _text("procedure_id", 64),
        _text("indicator", 20),
        _text("value", 2000),
        _text("detail", 2000),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("declared_at", retour.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        _text("declared_by", 60),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"]),
        sa.ForeignKeyConstraint(["declared_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("procedure_id", "indicator"),
    )
    op.create_table(
        "indicator_edition",
        _text("edition", 7),
        _text("procedure_id", 64),
        _text("indicator", 24),
        _text("value", 2000),
        _text("detail", 2000),
        _text("level", 12),
        sa.Column("goal_met", sa.Boolean(), nullable=True),
        sa.Column("declared_at", retour.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("taken_at", retour.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"]),
        sa.PrimaryKeyConstraint("edition", "procedure_id", "indicator"),
    )
    op.create_table(
        "page_load_day",
        _text("procedure_id", 64),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"]),
        sa.PrimaryKeyConstraint("procedure_id", "day", "bucket"),
    )
    with op.batch_alter_table("procedure_day") as batch:
        batch.add_column(
            sa.Column("accessibility", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("procedure_day") as batch:
        batch.drop_column("accessibility")
    op.drop_table("page_load_day")
    op.drop_table("indicator_edition")
    op.drop_table("procedure_indicator")
