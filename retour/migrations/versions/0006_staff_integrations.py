"""Staff integrations: ProConnect access requests, API keys, webhooks, feedback channels.

- `ministry_domain`, `access_request`: a civil servant who signs in through ProConnect
  without an account asks for one; the ministry that registered their email domain decides.
- `api_key`: keys of the staff API, stored as their SHA-256.

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import retour.models

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = retour.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ministry_domain",
        sa.Column("domain", String(length=253), nullable=False),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.PrimaryKeyConstraint("domain"),
    )
    op.create_index("ix_ministry_domain_ministry_id", "ministry_domain", ["ministry_id"])
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", String(length=254), nullable=False),
        sa.Column("name", String(length=200), nullable=False),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        sa.Column("status", String(length=10), nullable=False),
        sa.Column("requested_at", UTC(timezone=True), nullable=False),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("role", String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_index("ix_access_request_ministry_id", "access_request", ["ministry_id"])
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("prefix", String(length=16), nullable=False),
        sa.Column("key_hash", String(length=64), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_used_at", UTC(timezone=True), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_api_key_ministry_id", "api_key", ["ministry_id"])


def downgrade() -> None:
    op.drop_index("ix_api_key_ministry_id", table_name="api_key")
    op.drop_table("api_key")
    op.drop_index("ix_access_request_ministry_id", table_name="access_request")
    op.drop_table("access_request")
    op.drop_index("ix_ministry_domain_ministry_id", table_name="ministry_domain")
    op.drop_table("ministry_domain")
