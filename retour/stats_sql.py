"""The SQL that builds summary rows from `feedback`, for SQLite and PostgreSQL.

Assembled from this module's constants only, never from input (hence the `noqa: S608`
marks); every value is a bound parameter. `where` fragments come from `retour.stats`.

A submission counts as answered when it has its own public answer or belongs to a problem
whose answer is published (fixed or will not be fixed: `problem.answered_at`).
"""

from __future__ import annotations

from typing import Final

from retour.models import CHANNELS, KINDS

CHANNEL_COLUMNS: Final = tuple(f"channel_{channel}" for channel in CHANNELS)

# (upper bound of the delay in seconds, bucket width in seconds), in order.
ACK_BUCKETS: Final = ((3600, 60), (86400, 300), (30 * 86400, 3600), (None, 86400))


def day_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return "date(f.received_at)"
    return "CAST((f.received_at AT TIME ZONE 'UTC') AS DATE)"


def _delay_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return (
            "max(0, CAST(ROUND((julianday(f.acknowledged_at) - julianday(f.received_at))"
            " * 86400) AS INTEGER))"
        )
    return (
        "GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM (f.acknowledged_at - f.received_at)))"
        " AS BIGINT))"
    )


def _bucket_sql(delay: str) -> str:
    cases = [
        f"WHEN {delay} < {upper} THEN {delay} - {delay} % {width}"
        for upper, width in ACK_BUCKETS
        if upper is not None
    ]
    last_width = ACK_BUCKETS[-1][1]
    return f"CASE {' '.join(cases)} ELSE {delay} - {delay} % {last_width} END"


def _public(condition: str) -> str:
    return f"SUM(CASE WHEN f.status <> 'spam' AND {condition} THEN 1 ELSE 0 END)"


def day_insert_sql(dialect: str, where: str) -> str:
    day = day_sql(dialect)
    kinds = ", ".join(_public(f"f.kind = '{kind}'") for kind in KINDS)
    channels = ", ".join(_public(f"f.channel = '{channel}'") for channel in CHANNELS)
    return f"""
        INSERT INTO procedure_day (procedure_id, day, received, count, good, average, bad,
            {", ".join(KINDS)}, processed, acknowledged, answers, pii,
            {", ".join(CHANNEL_COLUMNS)})
        SELECT f.procedure_id, {day}, COUNT(*), {_public("1 = 1")},
            {_public("f.satisfaction = 3")}, {_public("f.satisfaction = 2")},
            {_public("f.satisfaction = 1")}, {kinds},
            {_public("f.status <> 'new'")}, {_public("f.acknowledged_at IS NOT NULL")},
            {_public("(a.id IS NOT NULL OR pr.id IS NOT NULL)")},
            SUM(CASE WHEN f.pii_categories <> '' THEN 1 ELSE 0 END), {channels}
        FROM feedback f LEFT JOIN public_answer a ON a.feedback_id = f.id
        LEFT JOIN problem_link pl ON pl.feedback_id = f.id
        LEFT JOIN problem pr ON pr.id = pl.problem_id AND pr.answered_at IS NOT NULL
        WHERE NOT f.honeypot AND {where}
        GROUP BY f.procedure_id, {day}
    """  # noqa: S608


def ack_insert_sql(dialect: str, where: str) -> str:
    day, delay = day_sql(dialect), _delay_sql(dialect)
    return f"""
        INSERT INTO procedure_day_ack (procedure_id, day, bucket, count, total_seconds)
        SELECT procedure_id, d, {_bucket_sql("delay")}, COUNT(*), SUM(delay)
        FROM (SELECT f.procedure_id AS procedure_id, {day} AS d, {delay} AS delay
              FROM feedback f
              WHERE NOT f.honeypot AND f.status <> 'spam' AND f.acknowledged_at IS NOT NULL
                AND {where}) AS acked
        GROUP BY procedure_id, d, {_bucket_sql("delay")}
    """  # noqa: S608
