"""Histograms of acknowledgement delays, and the median they give.

A histogram maps a bucket (its lower bound in seconds, see `retour.stats_sql.ACK_BUCKETS`) to
(count, sum of the exact delays). The median reports the mean of the bucket holding the
middle value: exact when that bucket holds one distinct delay, otherwise off by less than
the bucket's width.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

Histogram = dict[int, tuple[int, int]]  # bucket -> (count, total seconds)


def median_of(histogram: Histogram) -> float | None:
    """The median delay in seconds (see the module docstring for its precision)."""
    n = sum(count for count, _ in histogram.values())
    if n == 0:
        return None
    wanted = sorted({(n - 1) // 2, n // 2})
    values: list[float] = []
    seen = 0
    for bucket in sorted(histogram):
        count, total = histogram[bucket]
        while wanted and wanted[0] < seen + count:
            values.append(total / count)
            wanted.pop(0)
        seen += count
    if len(values) == 1:
        return values[0]
    return (values[0] + values[1]) / 2


def merge_histograms(histograms: Iterable[Histogram]) -> Histogram:
    merged: dict[int, tuple[int, int]] = {}
    for histogram in histograms:
        for bucket, (count, total) in histogram.items():
            before = merged.get(bucket, (0, 0))
            merged[bucket] = (before[0] + count, before[1] + total)
    return merged


def histogram_from_json(raw: str | None) -> Histogram:
    data: dict[str, list[int]] = json.loads(raw or "{}")
    return {int(bucket): (pair[0], pair[1]) for bucket, pair in data.items()}


def histogram_to_json(histogram: Histogram) -> str:
    return json.dumps({str(b): list(histogram[b]) for b in sorted(histogram)})
