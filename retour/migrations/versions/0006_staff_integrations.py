"""Staff integrations: ProConnect access requests, API keys, webhooks, feedback channels.

- `ministry_domain`, `access_request`: a civil servant who signs in through ProConnect
  without an account asks for one; the ministry that registered their email domain decides.
- `api_key`: keys of the staff API, stored as their SHA-256.
- `webhook_endpoint`, `webhook_delivery`, `webhook_attempt`: events queued in the database,
  sent and retried by the console; `stats_state.last_audit_id`, the events' watermark in
  the audit trail (row 3).
- `feedback.channel` (`online` by default: the ingest's inserts name no channel) and
  `feedback.recorded_by_id`: feedback received at a counter, by phone, by post or through
  France Services, typed in by staff; `procedure_day.channel_*`, the public figures by
  channel (the days summed so far were all online).

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import retour.models

revision: str = "0006"
down_revision: str | None = "0004"
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
    _webhooks_up()
    _channels_up()
    # Plain ADD COLUMN on both backends: a batch (copy) of `feedback` on SQLite would drop
    # the full-text and counter triggers of migration 0002.
    op.add_column(
        "feedback", sa.Column("channel", String(length=20), nullable=False, server_default="online")
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference in ADD COLUMN, not a constraint added afterwards.
        op.execute("ALTER TABLE feedback ADD COLUMN recorded_by_id INTEGER REFERENCES staff_user (id)")
    else:
        op.add_column(
            "feedback",
            sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=True),
        )


CHANNELS = ("online", "assisted", "counter", "phone", "post", "france_services")


def _channels_up() -> None:
    with op.batch_alter_table("procedure_day") as batch:
        for channel in CHANNELS:
            batch.add_column(
                sa.Column(f"channel_{channel}", sa.Integer(), nullable=False, server_default="0")
            )
    op.execute("UPDATE procedure_day SET channel_online = count")


def _channels_down() -> None:
    with op.batch_alter_table("procedure_day") as batch:
        for channel in CHANNELS:
            batch.drop_column(f"channel_{channel}")


def _webhooks_up() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ministry_id", sa.Integer(), nullable=False),
        sa.Column("url", String(length=2000), nullable=False),
        sa.Column("secret", String(length=80), nullable=False),
        sa.Column("events", String(length=200), nullable=False),
        sa.Column("include_comments", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ministry_id"], ["ministry.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_endpoint_ministry_id", "webhook_endpoint", ["ministry_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", big, nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event", String(length=40), nullable=False),
        sa.Column("event_key", String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("next_attempt_at", UTC(timezone=True), nullable=False),
        sa.Column("give_up_at", UTC(timezone=True), nullable=False),
        sa.Column("locked_until", UTC(timezone=True), nullable=True),
        sa.Column("delivered_at", UTC(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_duration_ms", sa.Integer(), nullable=True),
        sa.Column("last_error", String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "event_key"),
    )
    op.create_index("ix_webhook_delivery_endpoint_id", "webhook_delivery", ["endpoint_id"])
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", big, nullable=False),
        sa.Column("delivery_id", big, nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_attempt_delivery_id", "webhook_attempt", ["delivery_id"])
    with op.batch_alter_table("stats_state") as batch:
        batch.add_column(
            sa.Column("last_audit_id", sa.BigInteger(), nullable=False, server_default="0")
        )


def _webhooks_down() -> None:
    with op.batch_alter_table("stats_state") as batch:
        batch.drop_column("last_audit_id")
    op.drop_index("ix_webhook_attempt_delivery_id", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_endpoint_id", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_webhook_endpoint_ministry_id", table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")


def downgrade() -> None:
    _channels_down()
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("recorded_by_id")
        batch.drop_column("channel")
    _webhooks_down()
    op.drop_index("ix_api_key_ministry_id", table_name="api_key")
    op.drop_table("api_key")
    op.drop_index("ix_access_request_ministry_id", table_name="access_request")
    op.drop_table("access_request")
    op.drop_index("ix_ministry_domain_ministry_id", table_name="ministry_domain")
    op.drop_table("ministry_domain")
