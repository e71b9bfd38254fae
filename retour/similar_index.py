"""The similarity index: every comment of every ministry as hashed terms, in memory, kept up
to date incrementally from `feedback` (ids above a watermark), one shard per ministry so a
query never even reads another ministry's reports.

Scoring is the cosine of TF-IDF vectors (binary term frequency; scikit-learn's
`TfidfTransformer` gives the IDF): a shard keeps its documents' terms as a sparse matrix by
column (term → documents, an inverted index), so a query reads only the columns of its own
terms, not the whole shard. New documents go to a small delta matrix, folded into the main one
(IDF and norms recomputed) once it holds `MERGE_SHARE` of it.

Building is incremental too: `refresh(engine)` reads what is new in batches; when more than
`INLINE_MAX` rows wait (the first build on a big database), it reads them in a background
thread and `ready` stays False meanwhile: pages then say suggestions are being prepared,
rather than making a person wait. The index is rebuilt from the database by every process
after a restart; nothing is stored. Honeypot submissions and empty comments are left out;
spam and the like are filtered by the pages that show results (they read the rows anyway).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from retour.models import UTCDateTime, utcnow
from retour.similar_text import N_FEATURES, hashed, terms

log = logging.getLogger("retour.similar")

BATCH: Final = 20_000
INLINE_MAX: Final = 20_000
MERGE_SHARE: Final = 0.05
MERGE_MIN: Final = 2_000
# PostgreSQL hands out ids before commit: a row younger than this may still be followed by a
# lower id. SQLite commits in id order (one writer), so it needs no wait.
SETTLE: Final = dt.timedelta(seconds=10)
CHECK_EVERY: Final = 2.0


def _epoch(value: Any) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


@dataclass(frozen=True)
class Shard:
    """One ministry's documents. Immutable: an update makes a new shard."""

    main: Any  # CSC (documents × N_FEATURES), binary
    delta: Any  # CSR, documents added since `main` was built
    ids: np.ndarray  # feedback ids, main's rows then delta's
    received: np.ndarray  # epoch seconds, same order
    idf: np.ndarray
    norms: np.ndarray  # of each row's IDF-weighted vector

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])


def _fit(matrix: Any) -> tuple[np.ndarray, np.ndarray]:
    transformer = TfidfTransformer(norm=None, smooth_idf=True).fit(matrix)
    idf = transformer.idf_.astype(np.float32)
    norms = np.sqrt(matrix @ (idf * idf)).astype(np.float32)
    return idf, norms


def _new_shard(matrix: Any, ids: np.ndarray, received: np.ndarray) -> Shard:
    idf, norms = _fit(matrix)
    empty = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return Shard(matrix.tocsc(), empty, ids, received, idf, norms)


def _extend(shard: Shard, matrix: Any, ids: np.ndarray, received: np.ndarray) -> Shard:
    delta = sp.vstack([shard.delta, matrix], format="csr")
    all_ids = np.concatenate([shard.ids, ids])
    all_received = np.concatenate([shard.received, received])
    if delta.shape[0] >= max(MERGE_MIN, MERGE_SHARE * shard.main.shape[0]):
        return _new_shard(sp.vstack([shard.main, delta], format="csr"), all_ids, all_received)
    norms = np.sqrt(matrix @ (shard.idf * shard.idf)).astype(np.float32)
    return Shard(
        shard.main, delta, all_ids, all_received, shard.idf, np.concatenate([shard.norms, norms])
    )


@dataclass(frozen=True)
class BuildStats:
    documents: int = 0
    seconds: float = 0.0
    last_update_rows: int = 0
    last_update_seconds: float = 0.0


@dataclass
class SimilarityIndex:
    shards: dict[int, Shard] = field(default_factory=dict)
    last_id: int = 0
    ready: bool = False
    stats: BuildStats = field(default_factory=BuildStats)
    # More rows than this waiting: read them in a background thread.
    inline_max: int = INLINE_MAX
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _building: bool = False
    _checked: float = -math.inf

    # --- Keeping up ---------------------------------------------------------------------

    def refresh(self, engine: Engine, *, every: float = CHECK_EVERY) -> bool:
        """Catch up with new submissions (at most once per `every` seconds); True when ready.
        A large backlog is read in a background thread instead (then False until done)."""
        if self._building or time.monotonic() - self._checked < every:
            return self.ready
        with self._lock:
            if self._building:
                return self.ready
            self._checked = time.monotonic()
            top = self._top(engine)
            if top - self.last_id > self.inline_max:
                self._building = True
                threading.Thread(
                    target=self._build_in_background, args=(engine, top), daemon=True
                ).start()
                return self.ready
            self._read(engine, top)
            self.ready = True
        return True

    def _build_in_background(self, engine: Engine, top: int) -> None:
        try:
            with self._lock:
                self._read(engine, top)
                self.ready = True
        except Exception:  # logged; the next page view tries again
            log.exception("building the similarity index failed")
        finally:
            self._building = False

    def _top(self, engine: Engine) -> int:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                statement = text("SELECT MAX(id) FROM feedback")
                return int(connection.execute(statement).scalar() or 0)
            cutoff = bindparam("cutoff", utcnow() - SETTLE, type_=UTCDateTime())
            statement = text(
                "SELECT MAX(id) FROM feedback WHERE id > :last AND received_at <= :cutoff"
            ).bindparams(cutoff)
            found = connection.execute(statement, {"last": self.last_id}).scalar()
            return int(found) if found is not None else self.last_id

    def _read(self, engine: Engine, top: int) -> None:
        started, rows_read = time.perf_counter(), 0
        building = not self.ready
        with engine.connect() as connection:
            while self.last_id < top:
                rows = connection.execute(
                    text(
                        "SELECT id, ministry_id, received_at, comment FROM feedback "
                        "WHERE id > :last AND id <= :top AND NOT honeypot AND comment <> '' "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"last": self.last_id, "top": top, "n": BATCH},
                ).all()
                if not rows:
                    break
                self._add(rows)
                rows_read += len(rows)
                self.last_id = int(rows[-1].id)
        self.last_id = max(self.last_id, top)
        seconds = time.perf_counter() - started
        documents = sum(shard.size for shard in self.shards.values())
        # The first read is the build; later ones are updates.
        build_seconds = seconds if building else self.stats.seconds
        self.stats = BuildStats(documents, build_seconds, rows_read, seconds)

    def _add(self, rows: Sequence[Any]) -> None:
        by_ministry: dict[int, list[Any]] = {}
        for row in rows:
            by_ministry.setdefault(int(row.ministry_id), []).append(row)
        for ministry_id, items in by_ministry.items():
            matrix = hashed([list(terms(row.comment)) for row in items]).astype(np.float32)  # type: ignore[attr-defined]
            matrix.data[:] = 1.0  # binary: a word said twice in one comment counts once
            ids = np.array([row.id for row in items], dtype=np.int64)
            received = np.array([_epoch(row.received_at) for row in items], dtype=np.int64)
            shard = self.shards.get(ministry_id)
            if shard is None:
                self.shards[ministry_id] = _new_shard(matrix.tocsr(), ids, received)
            else:
                self.shards[ministry_id] = _extend(shard, matrix.tocsr(), ids, received)

    # --- Asking ---------------------------------------------------------------------------

    def vector(self, ministry_id: int, words: list[str]) -> tuple[Any, float]:
        """A text's terms as a row of the shard's space, and its IDF-weighted norm."""
        shard = self.shards.get(ministry_id)
        query = hashed([words]).astype(np.float32).tocsr()  # type: ignore[attr-defined]
        query.data[:] = 1.0
        idf = shard.idf if shard is not None else np.ones(N_FEATURES, dtype=np.float32)
        norm = float(np.sqrt(query @ (idf * idf))[0]) if query.nnz else 0.0
        return query, norm

    def similar(
        self, ministry_id: int, words: list[str], *, limit: int = 50, minimum: float = 0.3
    ) -> list[tuple[int, float]]:
        """The ministry's documents closest to `words`, best first: (feedback id, cosine)."""
        shard = self.shards.get(ministry_id)
        if shard is None or not words:
            return []
        query, norm = self.vector(ministry_id, words)
        if not norm:
            return []
        columns = query.indices
        weights = (shard.idf[columns] ** 2).astype(np.float32)
        # Only the query's columns of the main matrix: the postings of its own terms.
        dots = shard.main[:, columns] @ weights
        if shard.delta.shape[0]:
            dots = np.concatenate([dots, shard.delta[:, columns] @ weights])
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.nan_to_num(dots / (shard.norms * norm))
        hits = np.flatnonzero(scores >= minimum)
        if hits.size > limit:
            hits = hits[np.argpartition(-scores[hits], limit - 1)[:limit]]
        hits = hits[np.lexsort((-shard.ids[hits], -scores[hits]))]
        return [(int(shard.ids[i]), float(scores[i])) for i in hits]

    def count_with(self, ministry_id: int, columns: list[int], since: int) -> tuple[int, int]:
        """How many documents since `since` (epoch) have all these columns; the earliest."""
        shard = self.shards.get(ministry_id)
        if shard is None or not columns:
            return 0, since
        both = np.ones(shard.size, dtype=bool)
        for column in columns:
            present = np.zeros(shard.size, dtype=bool)
            main = shard.main[:, [column]]
            present[main.indices] = True
            if shard.delta.shape[0]:
                present[shard.main.shape[0] + shard.delta[:, [column]].tocsc().indices] = True
            both &= present
        both &= shard.received >= since
        found = np.flatnonzero(both)
        return int(found.size), int(shard.received[found].min()) if found.size else since
