"""Frames between an ingest process and its writer process: a 4-byte length, then a pickle.

Pickle, because both ends are this program (the writer process is the ingest process's own
child, over pipes nobody else holds) and it is the cheapest way to pass tuples of strings
and numbers. Submissions and impressions travel as tuples of plain values (`encode_items`):
a pickled NamedTuple names its class and an aware datetime its time zone, each looked up by
name on both sides, which cost 15-20 us a frame against under 2 for plain values, and below
full load most frames hold a single submission.
"""

from __future__ import annotations

import datetime as dt
import pickle
import struct
from collections.abc import Sequence
from typing import Any, BinaryIO, Final

from ingest.rows import Impression, ImpressionKey, IncomingFeedback

HEADER: Final = struct.Struct(">I")
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
_RECEIVED_AT: Final = IncomingFeedback._fields.index("received_at")
_FEEDBACK, _IMPRESSION = "f", "i"

Item = IncomingFeedback | Impression


def encode_items(items: Sequence[tuple[int, Item]]) -> bytes:
    """A frame of `(request id, item)`, items as plain values; `decode_items` reads it."""
    return encode_frame([(request, _plain(item)) for request, item in items])


def decode_items(frame: list[tuple[int, tuple[Any, ...]]]) -> list[tuple[int, Item]]:
    return [(request, _item(plain)) for request, plain in frame]


def _plain(item: Item) -> tuple[Any, ...]:
    if isinstance(item, IncomingFeedback):
        return (
            _FEEDBACK,
            *item[:_RECEIVED_AT],
            _micros(item.received_at),
            *item[_RECEIVED_AT + 1 :],
        )
    key = item.key
    return (
        _IMPRESSION,
        key.procedure_id,
        key.day.toordinal(),
        key.origin,
        key.event,
        _micros(item.at),
    )


def _item(plain: tuple[Any, ...]) -> Item:
    if plain[0] == _FEEDBACK:
        values = list(plain[1:])
        values[_RECEIVED_AT] = _EPOCH + values[_RECEIVED_AT] * _MICROSECOND
        return IncomingFeedback._make(values)
    _, procedure_id, day, origin, event, at = plain
    key = ImpressionKey(procedure_id, dt.date.fromordinal(day), origin, event)
    return Impression(key, _EPOCH + at * _MICROSECOND)


def _micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime: exact, unlike a float timestamp."""
    return (moment - _EPOCH) // _MICROSECOND


def encode_frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def decode_frame(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301  # from our own parent or child only


def write_frame(stream: BinaryIO, value: Any) -> None:
    stream.write(encode_frame(value))
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """The next frame's value; None at the end of the stream (EOFError if cut mid-frame)."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise EOFError("frame header cut short")
    (length,) = HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError("frame cut short")
    return decode_frame(data)
