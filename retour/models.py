"""Tables and data shapes shared by ingest, the console and the public pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from sqlalchemy import BigInteger, DateTime, Index, Integer, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from retour.redaction import COMMENT_MAX_LENGTH as COMMENT_MAX_LENGTH  # re-exported

# The procedure id appears in URLs and snippets: keep it to URL-safe characters.
PROCEDURE_ID_SHAPE: Final = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
PROCEDURE_ID_PATTERN: Final = rf"^{PROCEDURE_ID_SHAPE}$"
PROCEDURE_ID_RE: Final = re.compile(PROCEDURE_ID_PATTERN)

SATISFACTION_LEVELS: Final = (1, 2, 3)  # 1 bad, 2 average, 3 good
# "accessibility": « Un problème d'accessibilité » (screen reader, keyboard, zoom…), issue 18.
KINDS: Final = (
    "complaint",
    "change_request",
    "malfunction",
    "omission",
    "accessibility",
    "praise",
    "other",
)
STATUSES: Final = ("new", "acknowledged", "in_progress", "resolved", "rejected", "spam")
# Where each status may go next; "spam" is reachable from anywhere, and back to "new".
STATUS_TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "new": ("acknowledged", "in_progress", "resolved", "rejected", "spam"),
    "acknowledged": ("in_progress", "resolved", "rejected", "spam"),
    "in_progress": ("resolved", "rejected", "spam"),
    "resolved": ("in_progress", "spam"),
    "rejected": ("in_progress", "spam"),
    "spam": ("new",),
}
ROLES: Final = ("admin", "ministry_admin", "agent", "viewer")
# A civil servant signed in through OpenID Connect without an account asks for one.
ACCESS_REQUEST_STATUSES: Final = ("pending", "approved", "refused")
# What a ministry's webhook endpoints can subscribe to (retour.webhook_events makes them).
WEBHOOK_EVENTS: Final = (
    "feedback.created",
    "feedback.status_changed",
    "answer.published",
    "problem.created",
    "problem.status_changed",
    "problem.updated",
)
WEBHOOK_DELIVERY_STATUSES: Final = ("pending", "delivered", "failed")
IMPRESSION_EVENTS: Final = ("view", "open")
# How feedback reached the administration: the button or hosted form ("online"), the hosted
# form filled in with an adviser ("assisted", `/r/{id}?accompagne=1`), or recorded by staff.
CHANNELS: Final = ("online", "assisted", "counter", "phone", "post", "france_services")
RECORDED_CHANNELS: Final = ("counter", "phone", "post", "france_services")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Big integers on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The largest value of each kind of id column (PostgreSQL's integer and bigint): a larger
# number from a request never reaches a query, where the driver would raise (console.params).
MAX_ID: Final = 2**31 - 1
MAX_BIG_ID: Final = 2**63 - 1


# --- Register: ministries and procedures -------------------------------------------------


class Ministry(SQLModel, table=True):
    """A ministry (or agency) that owns procedures; its staff see only its data."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Procedure(SQLModel, table=True):
    """An online procedure where the button can appear; `id` is the one in the snippet."""

    id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=300)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", sa_type=Text)
    # Whether the procedure can be completed online (shown on the open dashboard).
    online: bool = Field(default=True)
    # Archived procedures leave the register and the dashboard but keep their feedback.
    active: bool = Field(default=True, index=True)
    # A ministry may change the button's text; None means the default label.
    button_label: str | None = Field(default=None, max_length=80)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcedureIndicator(SQLModel, table=True):
    """One quality indicator a ministry declared for a procedure (`retour.indicators`), with
    its evidence and who declared it when; `value` is empty when it is not declared."""

    __tablename__ = "procedure_indicator"

    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    indicator: str = Field(primary_key=True, max_length=20)
    value: str = Field(default="", max_length=2000)
    # The second half of two-part indicators: accessibility statement, where help is found.
    detail: str = Field(default="", max_length=2000)
    evidence: str = Field(default="", sa_type=Text)
    declared_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    declared_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # Who declared it, as the audit trail names them (an email, or "cli").
    declared_by: str = Field(default="", max_length=60)


class IndicatorEdition(SQLModel, table=True):
    """One indicator of one procedure as a quarterly edition of the observatory recorded it
    (`retour.editions`): declared and measured indicators alike, with the level they had."""

    __tablename__ = "indicator_edition"

    edition: str = Field(primary_key=True, max_length=7)  # "2026-Q4"
    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    indicator: str = Field(primary_key=True, max_length=24)
    value: str = Field(default="", max_length=2000)
    detail: str = Field(default="", max_length=2000)
    level: str = Field(default="no_data", max_length=12)
    goal_met: bool | None = Field(default=None)
    declared_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    taken_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcedureOrigin(SQLModel, table=True):
    """An origin (scheme://host[:port]) where a procedure's button may appear."""

    __tablename__ = "procedure_origin"

    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    origin: str = Field(primary_key=True, max_length=300)


# --- Submissions -------------------------------------------------------------------------


class Feedback(SQLModel, table=True):
    """One stored submission. `comment` is stored already masked; the raw text never is."""

    # The inbox's indexes, and the full-text index, are in migration 0002 (dialect-specific).
    __table_args__ = (Index("ix_feedback_ministry_received", "ministry_id", "received_at", "id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    client_id: str = Field(max_length=36, unique=True)
    receipt: str = Field(max_length=16, unique=True)
    procedure_id: str = Field(foreign_key="procedure.id", max_length=64)
    # Copied from the procedure at submission so isolation and the inbox never need a join.
    ministry_id: int = Field(foreign_key="ministry.id")
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    satisfaction: int
    kind: str | None = Field(default=None, max_length=20)
    comment: str = Field(default="", sa_type=Text)
    # Space-separated categories of personal data masked in the comment ("email phone").
    pii_categories: str = Field(default="", max_length=200)
    # Given on purpose by the citizen who wants an answer; purged after the answer.
    contact_email: str | None = Field(default=None, max_length=254)
    page_url: str | None = Field(default=None, max_length=2000)
    page_origin: str | None = Field(default=None, max_length=300)
    # False when the page's origin is not registered for the procedure; None when the
    # submission came with no page address (unknown is not unregistered).
    # (No default: the ORM would write a default in place of an explicit None.)
    origin_registered: bool | None = Field(default=None)
    # Honeypot filled: stored, answered as usual, kept out of the inbox.
    honeypot: bool = Field(default=False)
    locale: str = Field(default="fr", max_length=5)
    # How it reached us (CHANNELS): the ingest stores none, so the database's default applies.
    channel: str = Field(
        default="online", max_length=20, sa_column_kwargs={"server_default": "online"}
    )
    # The staff member (or API key's creator) who typed in feedback received elsewhere.
    recorded_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    status: str = Field(default="new", max_length=16)
    # Why it was rejected, in staff's words for the citizen (shown on /suivi); masked.
    rejection_reason: str | None = Field(default=None, sa_type=Text)
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id")
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedbackTag(SQLModel, table=True):
    """A free tag staff put on a submission."""

    __tablename__ = "feedback_tag"

    feedback_id: int = Field(sa_type=BigId, foreign_key="feedback.id", primary_key=True)
    tag: str = Field(max_length=60, primary_key=True)


class FeedbackNote(SQLModel, table=True):
    """An internal note on a submission, seen only by staff of its ministry."""

    __tablename__ = "feedback_note"

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(sa_type=BigId, foreign_key="feedback.id", index=True)
    author_id: int = Field(foreign_key="staff_user.id")
    body: str = Field(sa_type=Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PublicAnswer(SQLModel, table=True):
    """The administration's answer, published on the procedure's page and on /suivi."""

    __tablename__ = "public_answer"

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(sa_type=BigId, foreign_key="feedback.id", unique=True)
    procedure_id: str = Field(foreign_key="procedure.id", max_length=64, index=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    body: str = Field(sa_type=Text)
    author_id: int = Field(foreign_key="staff_user.id")
    published_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    emailed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ImpressionCount(SQLModel, table=True):
    """How often the button was shown or opened, per procedure, day, origin and event."""

    __tablename__ = "impression_count"

    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    day: dt.date = Field(primary_key=True)
    origin: str = Field(primary_key=True, max_length=300)
    event: str = Field(primary_key=True, max_length=8)
    count: int = Field(default=0, sa_type=BigInteger)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PageLoadDay(SQLModel, table=True):
    """How long the button's pages took to load for citizens (Navigation Timing's load event,
    sent with the `view` beacon), per procedure and UTC day: a histogram, never per person."""

    __tablename__ = "page_load_day"

    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    day: dt.date = Field(primary_key=True)
    # Lower bound of the bucket in milliseconds (`retour.page_loads.BUCKETS`).
    bucket: int = Field(primary_key=True)
    count: int = Field(default=0, sa_type=BigInteger)


# --- Staff -------------------------------------------------------------------------------


class StaffUser(SQLModel, table=True):
    """A console account. `ministry_id` is None only for DINUM admins."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)
    ministry_id: int | None = Field(default=None, foreign_key="ministry.id", index=True)
    active: bool = Field(default=True)
    # Sessions carry this number; bumping it (sign-out, deactivation) ends every session.
    session_version: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class MinistryDomain(SQLModel, table=True):
    """An email domain whose civil servants work for a ministry: someone who signs in through
    ProConnect with an address there, and has no account, gets an access request."""

    __tablename__ = "ministry_domain"

    domain: str = Field(primary_key=True, max_length=253)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccessRequest(SQLModel, table=True):
    """A request for a console account, made by signing in through ProConnect; the ministry's
    admin approves it (with a role) or refuses it. One per email address."""

    __tablename__ = "access_request"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(default="", max_length=200)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    status: str = Field(default="pending", max_length=10)
    requested_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # The role given on approval.
    role: str | None = Field(default=None, max_length=20)


class ApiKey(SQLModel, table=True):
    """A key a ministry's own tool uses on the staff API (`/api/v1/staff/`). Only its SHA-256
    is stored: the key itself is shown once, when it is created."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    name: str = Field(max_length=100)
    # The key's first characters ("jfr_AbCdEfGh"), so that people can tell keys apart.
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    # Read-write keys change statuses, add notes and publish answers; others only read.
    can_write: bool = Field(default=False)
    created_by_id: int = Field(foreign_key="staff_user.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """An HTTPS address of a ministry's tool that receives events, signed with `secret`."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    url: str = Field(max_length=2000)
    # HMAC-SHA256 key of the signatures; kept as it is, since every delivery needs it.
    secret: str = Field(max_length=80)
    # Space-separated event types (WEBHOOK_EVENTS).
    events: str = Field(max_length=200)
    # Citizens' comments (masked) go only to endpoints allowed to receive them.
    include_comments: bool = Field(default=False)
    active: bool = Field(default=True)
    created_by_id: int = Field(foreign_key="staff_user.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: queued here (so it survives a restart), sent and retried
    by the console's background task until it is delivered or `give_up_at` passes."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_key"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event: str = Field(max_length=40)
    # What the event is about, once per endpoint: "feedback:12" or "audit:345".
    event_key: str = Field(max_length=80)
    body: str = Field(sa_type=Text)
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    give_up_at: dt.datetime = Field(sa_type=UTCDateTime)
    # Set while one process sends it, so that no other sends it too.
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_duration_ms: int | None = None
    last_error: str = Field(default="", max_length=300)


class WebhookAttempt(SQLModel, table=True):
    """One try at sending a delivery: what the endpoint answered, and how fast."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    delivery_id: int = Field(sa_type=BigId, foreign_key="webhook_delivery.id", index=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    duration_ms: int = 0
    error: str = Field(default="", max_length=300)


class AuditEvent(SQLModel, table=True):
    """Who changed what, when: every change staff or the command line make."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id", "at"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # Who acted when there is no account, e.g. "cli" or "system".
    actor_label: str = Field(default="", max_length=60)
    ministry_id: int | None = Field(default=None, foreign_key="ministry.id", index=True)
    entity: str = Field(max_length=30)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=40)
    # JSON text: the change itself, e.g. {"from": "new", "to": "acknowledged"}.
    detail: str = Field(default="{}", sa_type=Text)


# --- Public figures and alerts ------------------------------------------------------------

# Refreshes find submissions changed since their watermark through this index.
Index("ix_feedback_updated_at", Feedback.__table__.c.updated_at)  # type: ignore[attr-defined]


class ProcedureDay(SQLModel, table=True):
    """Summary of one procedure's submissions received on one UTC day (public ones only:
    no honeypot, no spam), kept by `retour.stats` so that public pages never scan feedback."""

    __tablename__ = "procedure_day"

    procedure_id: str = Field(primary_key=True, max_length=64)
    day: dt.date = Field(primary_key=True)
    # Every non-honeypot submission, spam included: the coverage funnel counts button use.
    received: int = 0
    count: int = 0
    good: int = 0
    average: int = 0
    bad: int = 0
    complaint: int = 0
    change_request: int = 0
    malfunction: int = 0
    omission: int = 0
    praise: int = 0
    other: int = 0
    # « Un problème d'accessibilité » (issue 18); its default keeps older inserts valid.
    accessibility: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    processed: int = 0
    acknowledged: int = 0
    answers: int = 0
    # Received submissions whose comment had personal data masked (issue 6).
    pii: int = 0
    # Public submissions (as `count`) by channel (CHANNELS), for the figures split by channel.
    channel_online: int = 0
    channel_assisted: int = 0
    channel_counter: int = 0
    channel_phone: int = 0
    channel_post: int = 0
    channel_france_services: int = 0


class ProcedureDayAck(SQLModel, table=True):
    """Histogram of acknowledgement delays for one procedure and day, for the median."""

    __tablename__ = "procedure_day_ack"

    procedure_id: str = Field(primary_key=True, max_length=64)
    day: dt.date = Field(primary_key=True)
    # Lower bound of the delay bucket in seconds (see `retour.stats_sql.ACK_BUCKETS`).
    bucket: int = Field(primary_key=True, sa_type=BigInteger)
    count: int = 0
    # Sum of the exact delays in the bucket: its mean is the value the median reports.
    total_seconds: int = Field(default=0, sa_type=BigInteger)


class ProcedureStats(SQLModel, table=True):
    """One procedure's published figures over the last 12 months, rebuilt from the day rows."""

    __tablename__ = "procedure_stats"

    procedure_id: str = Field(primary_key=True, max_length=64)
    count: int = 0
    good: int = 0
    average: int = 0
    bad: int = 0
    processed: int = 0
    acknowledged: int = 0
    # Public answers over all time, not only the window.
    answers: int = 0
    median_ack_seconds: float | None = None
    # JSON {bucket: [count, total_seconds]}: merged per ministry for the loop's median.
    ack_histogram: str = Field(default="{}", sa_type=Text)
    window_start: dt.date | None = None


class MinistryStats(SQLModel, table=True):
    """A ministry's median time to acknowledge over the window (id 0: every ministry), merged
    from its active procedures' histograms by the refresh, so pages never parse them."""

    __tablename__ = "ministry_stats"

    ministry_id: int = Field(primary_key=True, sa_type=BigInteger)
    median_ack_seconds: float | None = None
    ack_histogram: str = Field(default="{}", sa_type=Text)


class StatsState(SQLModel, table=True):
    """Watermarks of the summary refresh (one row, id 1), of the alert dispatcher (id 2) and of
    the webhook events (id 3: submissions and audit events already turned into events)."""

    __tablename__ = "stats_state"

    id: int = Field(primary_key=True)
    last_feedback_id: int = Field(default=0, sa_type=BigInteger)
    last_audit_id: int = Field(default=0, sa_type=BigInteger)
    last_updated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The day the 12-month window was last moved on (all procedures recomputed then).
    window_day: dt.date | None = None
    # ISO week ("2026-W47") whose digest was sent (alert dispatcher row).
    digest_week: str | None = Field(default=None, max_length=10)
    # Bumped whenever a refresh changes figures: caches and ETags key on it.
    version: int = Field(default=0, sa_type=BigInteger)
    refreshed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class AlertSubscription(SQLModel, table=True):
    """A staff member's email alert: `new` (each new submission) or `digest` (weekly).
    `procedure_id` "*" means every procedure the member can see."""

    __tablename__ = "alert_subscription"

    user_id: int = Field(foreign_key="staff_user.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=10)
    procedure_id: str = Field(primary_key=True, max_length=64, default="*")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Triage inbox --------------------------------------------------------------------------


class FeedbackStatusCount(SQLModel, table=True):
    """Submissions per procedure and status (honeypot excluded), kept by database triggers
    (migration 0002) so that the inbox's counts per status never scan `feedback`."""

    __tablename__ = "feedback_status_count"

    procedure_id: str = Field(foreign_key="procedure.id", primary_key=True, max_length=64)
    status: str = Field(primary_key=True, max_length=16)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    count: int = Field(default=0, sa_type=BigInteger)


# --- Problems: what many citizens report, fixed once (issue 17) ---------------------------

PROBLEM_STATUSES: Final = ("open", "planned", "fixed", "wont_fix")
# Where each problem status may go next; a closed problem can be reopened.
PROBLEM_TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "open": ("planned", "fixed", "wont_fix"),
    "planned": ("open", "fixed", "wont_fix"),
    "fixed": ("open",),
    "wont_fix": ("open",),
}
# While a problem is in one of these, its public answer reaches every linked submission.
PROBLEM_CLOSED: Final = ("fixed", "wont_fix")
# What an incident watches on a procedure: malfunction reports, or "bad" ratings.
INCIDENT_SIGNALS: Final = ("malfunction", "bad")


class Problem(SQLModel, table=True):
    """A problem many citizens report on a ministry's procedures, tracked to a fix.

    Title, status, dates, reason and public answer are published; the description is not."""

    id: int | None = Field(default=None, primary_key=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=16)
    # Why it will not be fixed (required for `wont_fix`), in the administration's words.
    reason: str = Field(default="", sa_type=Text)
    public_answer: str = Field(default="", sa_type=Text)
    owner_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # Kept by `retour.problems` on every link and unlink: lists never count links.
    reports: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    planned_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while the answer is published to the linked submissions (status fixed/wont_fix).
    answered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A problem merged into another one: its links moved there; it is no longer listed.
    merged_into_id: int | None = Field(default=None, foreign_key="problem.id")


class ProblemProcedure(SQLModel, table=True):
    """A procedure (of the problem's ministry) that the problem concerns."""

    __tablename__ = "problem_procedure"

    problem_id: int = Field(foreign_key="problem.id", primary_key=True)
    procedure_id: str = Field(
        foreign_key="procedure.id", primary_key=True, max_length=64, index=True
    )


class ProblemLink(SQLModel, table=True):
    """A submission linked to a problem; a submission belongs to at most one problem."""

    __tablename__ = "problem_link"
    __table_args__ = (Index("ix_problem_link_problem", "problem_id", "linked_at"),)

    feedback_id: int = Field(sa_type=BigId, foreign_key="feedback.id", primary_key=True)
    problem_id: int = Field(foreign_key="problem.id")
    linked_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    linked_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # The problem's answer was emailed to the citizen (who had asked for an answer).
    emailed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A sender took this email; another process leaves it alone until it is stale.
    email_claimed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Incident(SQLModel, table=True):
    """A spike of malfunction reports or bad ratings on a procedure (`retour.spikes`)."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: str = Field(foreign_key="procedure.id", max_length=64, index=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    signal: str = Field(max_length=16)
    started_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The test that fired: reports in the last hour against the usual rate.
    observed: int = 0
    expected: float = 0.0
    p_value: float = 1.0
    # JSON list of the reports' most common words.
    words: str = Field(default="[]", sa_type=Text)
    alerted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    problem_id: int | None = Field(default=None, foreign_key="problem.id")
