"""Version 7 UUIDs: the client_ids the hosted form makes (the widget makes the same in JS)."""

from __future__ import annotations

import time
import uuid

from retour.uuids import uuid7


def test_a_uuid7_carries_the_time_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(uuid7())
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_uuid7s_sort_by_time_and_differ_within_a_millisecond() -> None:
    earlier = [uuid7() for _ in range(1000)]
    time.sleep(0.002)
    later = uuid7()
    assert len(set(earlier)) == 1000
    assert max(earlier) < later  # text order: what the unique index sorts by
    assert all(str(uuid.UUID(text)) == text for text in earlier)  # canonical form
