"""Ingest throughput against a bare Starlette endpoint, measured in the same run.

    .venv/bin/python bench/ingest.py --database sqlite|postgresql [--workers N]
        [--duration 10] [--connections 64] [--warmup 2] [--load-processes 1]

Each server runs under uvicorn (uvloop, httptools, no access log) in its own process and is
loaded over real HTTP by bench/load.py's generator, one after the other:
  - submissions: bare Starlette (parse the JSON, answer 202), then the ingest
    (`POST /api/v1/feedback`, unique client_ids, the rate limiter on with limits the load
    cannot reach, the real masking), with 1 worker, and with N workers if `--workers N`;
  - impressions: bare Starlette (parse, answer 204), then the ingest
    (`POST /api/v1/impressions`), 1 worker.
With `--database sqlite` the ingest stores into a new SQLite file (WAL, synchronous=FULL,
memory rate limits); with `postgresql` into a new database of `--postgres-url`, the limits in
Redis (`--redis-url`). It prints requests/s, p50, p99, the CPU per request, the load
average, every ratio, and checks that every 2xx answer is a stored row (or a stored count).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: bench/ is not a package on the path

from bench.load import Result, free_port, load, start_server, stop_server, tree_cpu_seconds  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PROCEDURE_ID = "bench-demarche"
ORIGIN = "https://www.example.gouv.fr"
BARE = ["bench.ingest:bare_app", "--factory"]
INGEST = ["ingest.app:create_app", "--factory"]


def submission_body() -> bytes:
    """The submission every request posts; the load generator gives each its client_id."""
    from retour.signing import FormTokens

    body = {
        "procedure_id": PROCEDURE_ID,
        "token": FormTokens(SECRET).issue(PROCEDURE_ID),
        "client_id": "CLIENT-ID-PLACEHOLDER",
        "satisfaction": 1,
        "kind": "malfunction",
        "comment": "Le bouton Valider ne fait rien à l'étape 3, j'ai essayé deux fois.",
        "contact_email": None,
        "page_url": f"{ORIGIN}/demarche/etape-3",
        "locale": "fr",
        "website": "",
    }
    return json.dumps(body).encode()


def impression_body() -> bytes:
    body = {"procedure_id": PROCEDURE_ID, "event": "view", "page_url": f"{ORIGIN}/demarche"}
    return json.dumps(body).encode()


def bare_app() -> Any:
    """The baseline: Starlette reading the same JSON and answering as the ingest does."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def feedback(request: Request) -> JSONResponse:
        data = json.loads(await request.body())
        return JSONResponse({"id": 1, "receipt": data["client_id"][:11]}, status_code=202)

    async def impressions(request: Request) -> Response:
        json.loads(await request.body())
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/v1/feedback", feedback, methods=["POST"]),
            Route("/api/v1/impressions", impressions, methods=["POST"]),
        ]
    )


# --- Set-up ------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    from sqlmodel import Session

    from retour.db import make_engine
    from retour.migrate import upgrade
    from retour.models import Ministry, Procedure, ProcedureOrigin
    from retour.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key=SECRET))
    upgrade(engine)
    with Session(engine) as session:
        ministry = Ministry(slug="ministere-du-bench", name="Ministère du Bench")
        session.add(ministry)
        session.flush()
        assert ministry.id is not None
        session.add(
            Procedure(
                id=PROCEDURE_ID,
                title="Demande de carte d'identité",
                ministry_id=ministry.id,
                url=f"{ORIGIN}/cni",
            )
        )
        session.flush()
        session.add(ProcedureOrigin(procedure_id=PROCEDURE_ID, origin=ORIGIN))
        session.commit()
    engine.dispose()


def stored(url: str) -> tuple[int, int]:
    """(submissions stored, impressions counted)."""
    from sqlalchemy import text

    from retour.db import make_engine
    from retour.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key=SECRET))
    with engine.connect() as connection:
        rows = int(connection.execute(text("SELECT count(*) FROM feedback")).scalar_one())
        counted = connection.execute(text("SELECT sum(count) FROM impression_count")).scalar()
    engine.dispose()
    return rows, int(counted or 0)


class PostgresDatabase:
    """A database of its own for the run, dropped at the end."""

    def __init__(self, server_url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self._name = f"retour_bench_{uuid.uuid4().hex[:10]}"
        server = make_url(server_url).set(drivername="postgresql+psycopg")
        self._admin = create_engine(server, isolation_level="AUTOCOMMIT")
        self._text = text
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self._name}"'))
        self.url = server.set(database=self._name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(self._text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
        self._admin.dispose()


# --- Runs --------------------------------------------------------------------------------


def run(
    name: str,
    target: list[str],
    workers: int,
    path: str,
    body: bytes,
    env: dict[str, str],
    args: argparse.Namespace,
) -> Result:
    port = free_port()
    process = start_server(target, port, workers, env)
    options = {"connections": args.connections, "processes": args.load_processes}
    try:
        if args.warmup:
            load(name, port, path, body, duration=args.warmup, **options)
        cpu_before = tree_cpu_seconds(process.pid)
        result = load(name, port, path, body, duration=args.duration, **options)
        cpu = tree_cpu_seconds(process.pid) - cpu_before
        result.cpu_us = cpu / max(result.requests, 1) * 1e6
    finally:
        stop_server(process)  # the ingest commits and flushes what it holds
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="also run N workers (N > 1)")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load not counted")
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="retour-bench-"))
    postgres = PostgresDatabase(args.postgres_url) if args.database == "postgresql" else None
    url = postgres.url if postgres else f"sqlite:///{tmp / 'bench.db'}"
    env = {
        "RETOUR_DATABASE_URL": url,
        "RETOUR_SECRET_KEY": SECRET,
        # The limiter stays on, with limits the load cannot reach.
        "RETOUR_RATE_LIMIT": "100000000/minute",
        "RETOUR_PROCEDURE_RATE_LIMIT": "100000000/minute",
    }
    if postgres:
        env["RETOUR_REDIS_URL"] = args.redis_url
        env["RETOUR_REDIS_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}"
    feedback, beacon = submission_body(), impression_body()
    results: dict[str, Result] = {}
    load_before = os.getloadavg()
    try:
        prepare_database(url)
        plan = [
            ("bare, submissions", BARE, 1, "/api/v1/feedback", feedback),
            ("ingest, submissions", INGEST, 1, "/api/v1/feedback", feedback),
            ("bare, impressions", BARE, 1, "/api/v1/impressions", beacon),
            ("ingest, impressions", INGEST, 1, "/api/v1/impressions", beacon),
        ]
        if args.workers > 1:
            n = args.workers
            plan += [
                (f"bare, submissions, {n} workers", BARE, n, "/api/v1/feedback", feedback),
                (f"ingest, submissions, {n} workers", INGEST, n, "/api/v1/feedback", feedback),
            ]
        for name, target, workers, path, body in plan:
            before = stored(url)
            result = results[name] = run(name, target, workers, path, body, env, args)
            if target is INGEST:
                check_stored(name, path, before, stored(url), result)
    finally:
        if postgres:
            postgres.drop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, args, load_before, os.getloadavg())


def check_stored(
    name: str,
    path: str,
    before: tuple[int, int],
    after: tuple[int, int],
    result: Result,
) -> None:
    # The warm-up's answers count too; the generator counts only what completed before it
    # stopped, so there can be more rows than answers, never fewer.
    kind = 0 if path.endswith("feedback") else 1
    gained = after[kind] - before[kind]
    answered = result.requests
    what = "rows stored" if kind == 0 else "impressions counted"
    verdict = "" if gained >= answered else f"  LOST: {answered - gained}"
    print(f"  {name}: {gained} {what} for {answered} answered 2xx (and the warm-up's){verdict}")


def report(
    results: dict[str, Result],
    args: argparse.Namespace,
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
) -> None:
    print(
        f"\n--database {args.database}: {args.connections} connections, {args.duration:g} s each"
        f" after {args.warmup:g} s of warm-up, {args.load_processes} load process(es)"
    )
    before, after = (" ".join(f"{x:.1f}" for x in load) for load in (load_before, load_after))
    print(f"load average (1, 5, 15 min): {before} before, {after} after")
    print(
        f"{'':36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'CPU us/req':>12}"
        f"{'generator CPU':>15}"
    )
    for name, r in results.items():
        print(
            f"{name:36}{r.rps:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
            f"{r.cpu_us:>12.0f}{r.generator_cpu:>15.2f}"
        )

    def ratio(label: str, numerator: str, denominator: str, target: str) -> None:
        value = results[numerator].rps / results[denominator].rps
        print(f"{label:44}{value:>6.2f}   target {target}")

    print()
    ratio("submissions, ingest / bare", "ingest, submissions", "bare, submissions", ">= 0.3")
    ingest_p99 = results["ingest, submissions"].p99_ms
    print(f"{'submissions, ingest p99 ms':44}{ingest_p99:>6.1f}   target < 50")
    ratio("impressions, ingest / bare", "ingest, impressions", "bare, impressions", ">= 0.7")
    if args.workers > 1:
        n = args.workers
        ratio(
            f"submissions, ingest {n} workers / 1",
            f"ingest, submissions, {n} workers",
            "ingest, submissions",
            ">= 1.3",
        )
        ratio(
            f"submissions, bare {n} workers / 1 (what bare gains)",
            f"bare, submissions, {n} workers",
            "bare, submissions",
            "-",
        )
        ratio(
            f"submissions, ingest {n} workers / bare {n} workers",
            f"ingest, submissions, {n} workers",
            f"bare, submissions, {n} workers",
            "-",
        )


if __name__ == "__main__":
    main()
