"""A bounded load of citizens who retry as the widget does, and what they were answered.

Each client thread sends submissions one after another, each with a new client_id, until
the load is stopped. A citizen's page first fetches the form (GET …/form, which gives the
token), then posts the submission; on a refused or reset connection or a 503 the client
waits and sends the same body again (same client_id), as the widget's outbox does, until
it is acknowledged. Any other answer is recorded as a refusal, and the test fails on it.

    load = Load(base_url, procedures=[...], secret_key=..., clients=6)
    with load.running():
        ...  # cut, restore, kill
    load.check_stored(engine)  # every acknowledged client_id stored once, with its id
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from tests.ingest.conftest import ORIGIN, stored_feedback

# The longest a submission may wait for its answer: the ingest's documented bound
# (docs/operations.md: 15 s) plus scheduling slack on a loaded test machine.
ANSWER_BOUND = 15.0
CLIENT_TIMEOUT = ANSWER_BOUND + 10.0
RETRY_PAUSE = 0.1  # the widget waits longer (Retry-After); shorter keeps the tests short
GIVE_UP_AFTER = 60.0  # a submission not acknowledged by then fails the test


@dataclass
class Answer:
    """One request of the load: when it ended, what it was, how long it took."""

    at: float
    what: str  # "form" or "feedback"
    status: int | None  # None: the connection was refused, reset or timed out
    seconds: float
    retry_after: str | None = None
    body: str = ""


@dataclass
class Load:
    base_url: str
    procedure_ids: Sequence[str]
    clients: int = 6
    pause: float = 0.02  # between two submissions of one client: the load stays bounded
    # Each visit from an address of its own (X-Forwarded-For, from a trusted proxy): the
    # per-address limit never refuses the load, whatever it is set to.
    forwarded_for: bool = False
    answers: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, tuple[int, str]] = field(default_factory=dict)
    unacknowledged: list[str] = field(default_factory=list)
    _visits: Iterator[int] = field(default_factory=itertools.count)
    _used: set[str] = field(default_factory=set)  # the procedures submitted to
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def running(self) -> Iterator[Load]:
        threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=GIVE_UP_AFTER + CLIENT_TIMEOUT)

    def run_one(self, procedure_id: str, client: httpx.Client) -> None:
        """One citizen's visit: fetch the form, then submit until acknowledged."""
        self._used.add(procedure_id)
        if self.forwarded_for:
            n = next(self._visits)
            client.headers["X-Forwarded-For"] = f"198.18.{n // 250 % 250}.{n % 250 + 1}"
        token = self._form_token(client, procedure_id)
        if token is None:
            return
        body = {
            "procedure_id": procedure_id,
            "token": token,
            "client_id": str(uuid.uuid4()),
            "satisfaction": 1 + len(self.answers) % 3,
            "comment": "Le bouton Valider ne fait rien.",
            "page_url": f"{ORIGIN}/etape",
        }
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            answer = self._request(client, "feedback", "POST", "/api/v1/feedback", json=body)
            if answer.status == 202:
                data = httpx.Response(202, content=answer.body).json()
                with self._lock:
                    self.acknowledged[body["client_id"]] = (data["id"], data["receipt"])
                return
            if answer.status not in (None, 503):
                return  # a refusal: recorded, the test fails on it
            time.sleep(RETRY_PAUSE)
        with self._lock:
            self.unacknowledged.append(body["client_id"])

    def wait_for_acknowledgements(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.acknowledged)} acknowledged in {timeout} s")
            time.sleep(0.02)

    # --- What the tests assert --------------------------------------------------------------

    def refusals(self) -> list[Answer]:
        """Answers that neither acknowledge nor ask to retry (a 500 is one)."""
        allowed = {"form": {200, 503}, "feedback": {202, 503}}
        return [a for a in self.answers if a.status is not None and a.status not in allowed[a.what]]

    def unavailable(self, since: float = 0.0, until: float = float("inf")) -> list[Answer]:
        return [a for a in self.answers if a.status == 503 and since <= a.at <= until]

    def acknowledged_between(self, since: float, until: float = float("inf")) -> list[Answer]:
        feedback = (a for a in self.answers if a.what == "feedback")
        return [a for a in feedback if a.status == 202 and since <= a.at <= until]

    def check(self, engine: Engine) -> None:
        """The invariants every fault test ends with."""
        refused = collections.Counter((a.what, a.status, a.body[:120]) for a in self.refusals())
        assert not refused, f"answers other than 2xx and 503: {refused}"
        without = [a for a in self.unavailable() if not a.retry_after]
        assert without == [], "503 without Retry-After"
        slowest = max((a.seconds for a in self.answers), default=0.0)
        assert slowest < ANSWER_BOUND + 5, f"a request took {slowest:.1f} s"
        assert self.unacknowledged == [], "submissions never acknowledged (no recovery)"
        # Submissions of the load's procedures (a test may send others of its own).
        rows = [row for row in stored_feedback(engine) if row.procedure_id in self._used]
        stored = {row.client_id: (row.id, row.receipt) for row in rows}
        assert len(rows) == len(stored), "a client_id stored twice"
        # Every acknowledged submission is stored, with the id and receipt it was answered;
        # nothing else is (every client retried until acknowledged).
        assert stored == self.acknowledged

    # --- Inside ----------------------------------------------------------------------------

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT) as http:
            n = 0
            while not self._stop.is_set():
                self.run_one(self.procedure_ids[(number + n) % len(self.procedure_ids)], http)
                n += 1
                time.sleep(self.pause)

    def _form_token(self, client: httpx.Client, procedure_id: str) -> str | None:
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            answer = self._request(client, "form", "GET", f"/api/v1/procedures/{procedure_id}/form")
            if answer.status == 200:
                return str(httpx.Response(200, content=answer.body).json()["token"])
            if answer.status not in (None, 503):
                return None
            time.sleep(RETRY_PAUSE)
        return None

    def _request(
        self, client: httpx.Client, what: str, method: str, path: str, **kw: Any
    ) -> Answer:
        started = time.monotonic()
        try:
            response = client.request(method, path, **kw)
        except httpx.TransportError:
            answer = Answer(time.monotonic(), what, None, time.monotonic() - started)
        else:
            answer = Answer(
                time.monotonic(),
                what,
                response.status_code,
                time.monotonic() - started,
                response.headers.get("retry-after"),
                response.text,
            )
        with self._lock:
            self.answers.append(answer)
        return answer
