"""What the event loop hands the writer process: plain values, cheap to pickle.

This module (like everything the writer process imports) stays free of SQLAlchemy and
Starlette, so that the process starts in a few tens of milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple


class IncomingFeedback(NamedTuple):
    """A validated submission tied to its procedure; `comment` is cleaned, not yet masked.

    The writer process masks the comment, draws the receipt and stores the row: that work
    runs on another core than the event loop's.
    """

    client_id: str
    procedure_id: str
    ministry_id: int
    received_at: dt.datetime
    satisfaction: int
    kind: str | None
    comment: str
    contact_email: str | None
    page_url: str | None
    page_origin: str | None
    origin_registered: bool | None  # None: no page address, origin unknown
    honeypot: bool
    locale: str


@dataclass(frozen=True)
class ImpressionKey:
    procedure_id: str
    day: dt.date
    origin: str
    event: str


class Impression(NamedTuple):
    key: ImpressionKey
    at: dt.datetime


class DatabaseTarget(NamedTuple):
    """Where the writer process connects: a SQLite file path, or a libpq connection URI."""

    dialect: str  # "sqlite" or "postgresql"
    address: str
