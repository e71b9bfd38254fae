"""In-process cost of one submission against the bare endpoint, without HTTP.

    .venv/bin/python bench/ingest_profile.py [--requests 20000] [--concurrency 64] [--profile]

Builds the ingest app on a temporary SQLite database (the same set-up as bench/ingest.py),
runs its lifespan, and drives the ASGI app directly with prepared scope/receive/send:
N POSTs with unique client_ids, `--concurrency` at a time (so group commit batches). Does
the same against bench/ingest.py's bare Starlette endpoint and prints the CPU time per
request (process time plus the writer process's, read from /proc) and the ratio.
`--profile` prints the ingest run's cProfile (event-loop thread CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    ORIGIN,
    SECRET,
    bare_app,
    prepare_database,
    submission_body,
)
from bench.load import tree_cpu_seconds  # noqa: E402


def body_template() -> str:
    return json.dumps(submission_body())


async def drive(app: Any, bodies: list[bytes], concurrency: int) -> list[int]:
    statuses: list[int] = []
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"text/plain;charset=UTF-8"),
        (b"origin", ORIGIN.encode()),
    ]

    async def one(body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/feedback",
            "raw_path": b"/api/v1/feedback",
            "root_path": "",
            "query_string": b"",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            await one(queue.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def with_lifespan(app: Any, scope_state: dict[str, Any], run: Any) -> Any:
    """Run `run()` inside the app's lifespan, as uvicorn would."""
    started = asyncio.Event()
    stop = asyncio.Event()
    done = asyncio.Event()
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        try:
            return next(messages)
        except StopIteration:
            await stop.wait()
            return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        elif message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message)
        elif message["type"].startswith("lifespan.shutdown"):
            done.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": scope_state}
    task = asyncio.create_task(app(scope, receive, send))
    await started.wait()
    try:
        return await run()
    finally:
        stop.set()
        await task


def _writer_cpu(writer: Any) -> float:
    """CPU seconds of the ingest's writer process so far (0 for the bare app)."""
    pid = writer.process_id if writer is not None else None
    return tree_cpu_seconds(pid) if pid is not None else 0.0


def measure(
    app: Any, bodies: list[bytes], concurrency: int, profile: bool
) -> tuple[float, float, Any]:
    """(process CPU us per request, event-loop thread CPU us per request, profiler)."""
    state: dict[str, Any] = {}
    # Thread CPU time, not wall time: waiting in epoll or for the GIL is not cost.
    profiler = cProfile.Profile(time.thread_time) if profile else None

    async def run() -> list[int]:
        # Wrap the app so requests carry the lifespan state, as uvicorn does.
        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        await drive(with_state, bodies[:200], concurrency)  # warm-up
        writer = state["ingest"].writer if "ingest" in state else None
        writer_started = _writer_cpu(writer)
        started, loop_started = time.process_time(), time.thread_time()
        if profiler:
            profiler.enable()
        statuses = await drive(with_state, bodies[200:], concurrency)
        if profiler:
            profiler.disable()
        elapsed = time.process_time() - started + _writer_cpu(writer) - writer_started
        loop = time.thread_time() - loop_started
        assert set(statuses) == {202}, set(statuses)
        return [elapsed * 1e6 / len(statuses), loop * 1e6 / len(statuses)]

    result = asyncio.run(with_lifespan(app, state, run))
    return result[0], result[1], profiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", choices=["bare", "ingest"])
    parser.add_argument("--sort", default="cumulative", help="pstats order with --profile")
    parser.add_argument("--top", type=int, default=60, help="functions shown with --profile")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="retour-profile-"))
    try:
        url = prepare_database(tmp)
        os.environ.update(
            RETOUR_DATABASE_URL=url,
            RETOUR_SECRET_KEY=SECRET,
            RETOUR_RATE_LIMIT="100000000/minute",
            RETOUR_PROCEDURE_RATE_LIMIT="100000000/minute",
        )
        from ingest.app import create_app
        from retour.settings import Settings

        template = body_template()
        bodies = [
            template.replace("CLIENT-ID-PLACEHOLDER", str(uuid.uuid4())).encode()
            for _ in range(args.requests + 200)
        ]
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        bare = ingest = 0.0
        if args.only != "ingest":
            bare, bare_loop, _ = measure(bare_app(), bodies, args.concurrency, False)
            print(f"bare   : {bare:7.1f} us CPU per request ({bare_loop:.1f} in the event loop)")
        if args.only != "bare":
            app = create_app(Settings.from_environ())
            ingest, loop, profiler = measure(app, bodies, args.concurrency, args.profile)
            print(f"ingest : {ingest:7.1f} us CPU per request ({loop:.1f} in the event loop)")
        if bare and ingest:
            print(f"bare / ingest CPU per request: {bare / ingest:.2f}")
        if args.profile and args.only != "bare":
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
