"""Ingest throughput against a bare Starlette baseline, measured in the same run.

    .venv/bin/python bench/ingest.py [--rounds 3] [--duration 10] [--connections 64]

Runs, one after the other and `--rounds` times over, each under uvicorn (uvloop, httptools)
in its own process:
  1. bare Starlette: parse the JSON, answer 202 (the baseline);
  2. bare Starlette, 2 workers: what two workers can gain at all on this machine, whose
     cores wrk shares (the ceiling for the 2-workers target);
  3. the ingest service, 1 worker: SQLite synchronous=FULL, limiter on (a high limit);
  4. the ingest service, 2 workers sharing the SQLite file;
  5. with --compare-stack, the ingest with POST /api/v1/feedback through Starlette's
     middleware and routing instead of its fast path (ingest/fast_feedback.py).
Each is loaded by wrk (a separate process) posting submissions with unique client_ids,
after a warm-up load that is not counted (`--warmup`, seconds: a server runs for days, and
its first submission starts the writer process, a wait of ~100 ms that 64 requests shared,
about a tenth of the slowest 1 % of a run). The script prints requests/s, p50 and p99 of
every run, the rows stored beside the 2xx answered (flagging any lost), and each ratio as
the median over the rounds of the ratio within a round: this machine's speed drifts by a
fifth over minutes, and one bare run and one ingest run half a minute apart could give 0.52
or 0.74 for the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: bench/ is not a package on the path

from bench.load import (  # noqa: E402
    Result,
    free_port,
    start_server,
    stop_server,
    thread_cpu_seconds,
    tree_cpu_seconds,
    wrk,
)

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PROCEDURE_ID = "bench-demarche"
ORIGIN = "https://www.example.gouv.fr"


def submission_body() -> dict[str, Any]:
    """The submission every benchmark posts; `client_id` is a placeholder to replace."""
    from retour.signing import FormTokens

    return {
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


def starlette_path_app() -> Any:
    """The ingest with POST /api/v1/feedback through Starlette's stack (`--compare-stack`)."""
    from ingest.app import create_app

    return create_app(fast_feedback=False)


# --- The baseline: bare Starlette --------------------------------------------------------


def bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def feedback(request: Request) -> JSONResponse:
        data = json.loads(await request.body())
        return JSONResponse({"id": 1, "client_id": data["client_id"]}, status_code=202)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/api/v1/feedback", feedback, methods=["POST"])]
    )


# --- Set-up ------------------------------------------------------------------------------


def prepare_database(directory: Path) -> str:
    from sqlmodel import Session

    from retour.db import make_engine
    from retour.migrate import upgrade
    from retour.models import Ministry, Procedure, ProcedureOrigin
    from retour.settings import Settings

    url = f"sqlite:///{directory / 'bench.db'}"
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
    return url


def count_rows(url: str) -> int:
    from sqlalchemy import text

    from retour.db import make_engine
    from retour.settings import Settings

    engine = make_engine(Settings(database_url=url, secret_key=SECRET))
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM feedback")).scalar_one())
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load not counted")
    parser.add_argument(
        "--rounds", type=int, default=3, help="times the four servers run, one after the other"
    )
    parser.add_argument(
        "--compare-stack",
        action="store_true",
        help="also run the ingest with the feedback route through Starlette's stack",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="retour-bench-"))
    url = prepare_database(tmp)
    env = {
        "RETOUR_DATABASE_URL": url,
        "RETOUR_SECRET_KEY": SECRET,
        # The limiter stays on, with limits the load cannot reach.
        "RETOUR_RATE_LIMIT": "100000000/minute",
        "RETOUR_PROCEDURE_RATE_LIMIT": "100000000/minute",
    }
    body = submission_body()
    runs = [
        ("bare Starlette, 1 worker", ["bench.ingest:bare_app", "--factory"], 1),
        ("bare Starlette, 2 workers", ["bench.ingest:bare_app", "--factory"], 2),
        ("ingest, 1 worker", ["ingest.app:create_app", "--factory"], 1),
        ("ingest, 2 workers", ["ingest.app:create_app", "--factory"], 2),
    ]
    if args.compare_stack:
        stack_app = ["bench.ingest:starlette_path_app", "--factory"]
        runs.append(("ingest via Starlette stack", stack_app, 1))
    # The machine's speed drifts over minutes: each ratio compares runs of the same round,
    # and the rounds' median is the figure.
    rounds: list[list[Result]] = []
    load_before = os.getloadavg()
    try:
        for _ in range(args.rounds):
            rounds.append([run_one(run, url, env, body, args, tmp) for run in runs])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    report(rounds, args, load_before, load_after)


def run_one(
    run: tuple[str, list[str], int],
    url: str,
    env: dict[str, str],
    body: dict[str, Any],
    args: argparse.Namespace,
    tmp: Path,
) -> Result:
    name, target, workers = run
    port = free_port()
    process = start_server(target, port, workers, env)
    try:
        if args.warmup:
            wrk(name, port, body, args, tmp, duration=args.warmup)
            time.sleep(0.5)  # the warm-up's last submissions commit
        before = count_rows(url)
        cpu_before = tree_cpu_seconds(process.pid)
        loop_before = thread_cpu_seconds(process.pid)
        result = wrk(name, port, body, args, tmp)
        cpu = tree_cpu_seconds(process.pid) - cpu_before
        result.cpu_us = cpu / max(result.requests, 1) * 1e6
        if workers == 1:
            loop = thread_cpu_seconds(process.pid) - loop_before
            result.loop_us = loop / max(result.requests, 1) * 1e6
    finally:
        stop_server(process)
    if not target[0].startswith("bench.ingest:bare"):
        stored = count_rows(url) - before
        answered = result.requests - result.errors
        # wrk counts the requests it completed, not those in flight when it stopped: there can
        # be more rows than 2xx answers, never fewer.
        lost = answered - stored
        verdict = f"  LOST: {lost} answered 2xx, not stored" if lost > 0 else ""
        print(f"  {name}: {stored} rows stored for {answered} answered 2xx{verdict}")
    return result


def report(
    rounds: list[list[Result]],
    args: argparse.Namespace,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    print(
        f"\n{args.connections} connections, {args.duration} s each after {args.warmup} s of"
        f" warm-up, wrk -t{args.threads}, {len(rounds)} rounds"
    )
    # Other work on the machine distorts requests/s far more than CPU per request.
    before, after = (" ".join(f"{x:.1f}" for x in load) for load in (load_before, load_after))
    print(f"load average (1, 5, 15 min): {before} before, {after} after")
    header = f"{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'CPU us/req':>12}"
    print(f"{'':36}{header}{'loop us/req':>13}")
    for number, results in enumerate(rounds, 1):
        for result in results:
            loop = f"{result.loop_us:>13.0f}" if result.loop_us else f"{'-':>13}"
            print(
                f"{result.name + f' (round {number})':36}{result.rps:>10.0f}{result.p50_ms:>10.2f}"
                f"{result.p99_ms:>10.2f}{result.errors:>10}{result.cpu_us:>12.0f}{loop}"
            )

    def figure(label: str, values: list[float], target: str = "") -> None:
        each = ", ".join(f"{value:.2f}" for value in values)
        print(f"{label:34}{statistics.median(values):.2f}  (rounds: {each}){target}")

    print("\nmedians over the rounds, each ratio within one round:")
    figure("ingest 1 worker / bare Starlette", [r[2].rps / r[0].rps for r in rounds], "  >= 0.6")
    figure("CPU per request, bare / ingest", [r[0].cpu_us / r[2].cpu_us for r in rounds])
    # One worker whose event loop had a core to itself and never waited would answer
    # 1 s / (its loop's CPU per request): the ratio it could reach at this CPU cost.
    figure("ratio with the loop always busy", [1e6 / r[2].loop_us / r[0].rps for r in rounds])
    figure("ingest 2 workers / 1 worker", [r[3].rps / r[2].rps for r in rounds], "  >= 1.7")
    figure("bare 2 workers / 1 (the ceiling)", [r[1].rps / r[0].rps for r in rounds])
    p99_label = f"ingest p99 ms, {args.connections} connections"
    figure(p99_label, [r[2].p99_ms for r in rounds], "  < 50")
    if args.compare_stack:
        figure("fast path / Starlette stack", [r[2].rps / r[4].rps for r in rounds])


if __name__ == "__main__":
    main()
