"""Frames between an ingest process and its writer process: a 4-byte length, then a pickle.

Pickle, because both ends are this program (the writer process is the ingest process's own
child, over pipes nobody else holds) and it is the cheapest way to pass tuples of strings,
numbers and datetimes.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any, BinaryIO, Final

HEADER: Final = struct.Struct(">I")


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
