"""Frames to the writer process carry submissions and impressions exactly, as plain values."""

from __future__ import annotations

import datetime as dt
import pickle

from hypothesis import given
from hypothesis import strategies as st

from ingest.frames import HEADER, decode_items, encode_items
from ingest.rows import Impression, ImpressionKey, IncomingFeedback

moments = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2999, 12, 31),
    timezones=st.just(dt.UTC),
)


def feedback(received_at: dt.datetime, comment: str) -> IncomingFeedback:
    return IncomingFeedback(
        client_id="0b5c8f0e-2f0c-4a3e-9a57-5b2b9d1f9e11",
        procedure_id="demarche-1234",
        ministry_id=7,
        received_at=received_at,
        satisfaction=1,
        kind=None,
        comment=comment,
        contact_email="jean@example.org",
        page_url="https://www.example.gouv.fr/demarche",
        page_origin="https://www.example.gouv.fr",
        origin_registered=True,
        honeypot=False,
        locale="fr",
    )


def round_trip(items: list[tuple[int, IncomingFeedback | Impression]]) -> list[object]:
    frame = encode_items(items)
    (length,) = HEADER.unpack(frame[: HEADER.size])
    assert length == len(frame) - HEADER.size
    return decode_items(pickle.loads(frame[HEADER.size :]))


@given(moments, st.text(), moments)
def test_items_come_back_equal_to_the_microsecond(
    received_at: dt.datetime, comment: str, seen_at: dt.datetime
) -> None:
    impression = Impression(
        ImpressionKey("demarche-1234", seen_at.date(), "https://a.fr", "view"), seen_at
    )
    items = [(3, feedback(received_at, comment)), (4, impression)]
    decoded = round_trip(items)
    assert decoded == items
    assert [type(item) for _, item in decoded] == [IncomingFeedback, Impression]


def test_frames_name_no_class() -> None:
    """Plain values only: what made frames slow to pickle was looking classes up by name."""
    frame = encode_items([(1, feedback(dt.datetime.now(dt.UTC), "Rien ne marche."))])
    assert b"IncomingFeedback" not in frame and b"datetime" not in frame
