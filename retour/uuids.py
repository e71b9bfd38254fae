"""Time-ordered UUIDs (RFC 9562 version 7), which Python's `uuid` module lacks before 3.14.

The ingest's unique index on `client_id` takes a batch of them on a few pages, where random
version 4 UUIDs cost a page per row (bench/wal_pages.py). The widget makes the same kind in
JavaScript (widget/src/send.js); the hosted no-JS form makes them here.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """48 bits of Unix milliseconds, the version, then 74 random bits (canonical text form)."""
    milliseconds = time.time_ns() // 1_000_000
    bits = milliseconds << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    bits = bits & ~(0xF << 76) | 0x7 << 76  # version 7
    bits = bits & ~(0x3 << 62) | 0x2 << 62  # variant 10 (RFC 9562)
    return str(uuid.UUID(int=bits))
