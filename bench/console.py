"""Console speed on a million submissions: inbox pages, search, a deep page, a submission.

    .venv/bin/python bench/console.py [--backend sqlite|postgresql|both] [--rows 1000000]
                                      [--runs 30] [--reuse] [--keep]

Fills a database with `--rows` submissions across 250 procedures and 15 ministries
(`bench/console_data.py`: SQLite or a PostgreSQL database of its own), then measures the
server time of each page: the console app is called in-process through Starlette's
TestClient (real middleware, sessions, templates and database; no network), warmed up, and
timed `--runs` times. It prints the median and p90 in milliseconds and the ratio of the
median to a trivial page (the sign-in form) measured in the same run. `--reuse` keeps a
database filled by an earlier run with the same row count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import warnings
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console_data import PASSWORD, drop_database, prepare  # noqa: E402
from console.app import create_app  # noqa: E402
from console.inbox_query import Cursor  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.settings import Settings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SEARCH_WORD = "paiement"


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float]:
    expected = 404 if path.endswith("/nowhere") else 200
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == expected, (path, response.status_code, response.text[:300])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected, path
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def sign_in(client: TestClient, email: str) -> None:
    page = client.get("/console/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text[:300]


def targets(settings: Settings) -> tuple[int, str, int, str]:
    """The biggest ministry, a cursor half-way down its inbox, and a submission to open."""
    engine = make_engine(settings)
    with engine.connect() as connection:
        ministry, size = connection.execute(
            text(
                "SELECT ministry_id, count(*) FROM feedback GROUP BY ministry_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        received, ident = connection.execute(
            text(
                "SELECT received_at, id FROM feedback WHERE ministry_id = :m AND NOT honeypot "
                "AND status <> 'spam' ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET :o"
            ),
            {"m": ministry, "o": size // 2},
        ).one()
        feedback_id = connection.execute(
            text(
                "SELECT id FROM feedback WHERE ministry_id = :m AND comment <> '' "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"m": ministry},
        ).scalar_one()
    engine.dispose()
    if isinstance(received, str):
        received = dt.datetime.fromisoformat(received)
    if received.tzinfo is None:
        received = received.replace(tzinfo=dt.UTC)
    return int(ministry), Cursor(received, int(ident)).encode(), int(feedback_id), str(size)


def prepare_problems(agent: TestClient, feedback_id: int, token: str) -> tuple[int, float]:
    """Wait for the app's similarity index (its first build runs in the background), then make
    a problem of the submission's closest reports. Returns the problem and the build time."""
    started = time.perf_counter()
    while "en préparation" in agent.get(f"/console/feedback/{feedback_id}").text:
        if time.perf_counter() - started > 1800:
            raise SystemExit("the similarity index took more than 30 minutes")
        time.sleep(1)
    built = time.perf_counter() - started
    page = agent.get(f"/console/?semblables={feedback_id}").text
    ids = [part.split('"', 1)[0] for part in page.split('name="ids" value="')[1:]][:50]
    procedures = {part.split('"', 1)[0] for part in page.split('href="/console/?procedure=')[1:]}
    response = agent.post(
        "/console/problems/new",
        data={
            "title": "Le bouton Valider ne répond pas",
            "retour": ids,
            "procedures": sorted(procedures) or [],
            "csrf_token": token,
        },
    )
    if response.status_code != 303:
        # The form needs a procedure: take the submission's own.
        form = agent.get(f"/console/problems/new?retour={feedback_id}").text
        chosen = form.split('name="procedures" value="', 1)[1].split('"', 1)[0]
        response = agent.post(
            "/console/problems/new",
            data={
                "title": "Le bouton Valider",
                "retour": ids,
                "procedures": [chosen],
                "csrf_token": token,
            },
        )
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].split("/")[3].split("?")[0]), built


def index_costs(settings: Settings) -> None:
    """The similarity index's build from scratch, and one incremental update, measured alone."""
    from retour.similar_index import SimilarityIndex

    engine = make_engine(settings)
    index = SimilarityIndex(inline_max=10**9)
    started = time.perf_counter()
    index.refresh(engine)
    build = time.perf_counter() - started
    documents = index.stats.documents
    index.last_id -= 1000  # the last 1,000 submissions read again, as new ones would be
    started = time.perf_counter()
    index.refresh(engine, every=0)
    update = time.perf_counter() - started
    engine.dispose()
    print(
        f"similarity index: {documents:,} comments indexed in {build:.1f} s; "
        f"an update of 1,000 submissions in {update * 1000:.0f} ms",
        flush=True,
    )


def measure(backend: str, settings: Settings, runs: int) -> list[tuple[str, float, float]]:
    ministry, cursor, feedback_id, size = targets(settings)
    app = create_app(settings)
    results = []
    with (
        TestClient(app, follow_redirects=False) as anonymous,
        TestClient(app, follow_redirects=False) as agent,
        TestClient(app, follow_redirects=False) as admin,
    ):
        sign_in(agent, f"agent{ministry}@bench.gouv.fr")
        sign_in(admin, "admin@bench.gouv.fr")
        # Some history on the submission opened, as a worked one would have.
        token = (
            agent.get(f"/console/feedback/{feedback_id}")
            .text.split('name="csrf_token" value="', 1)[1]
            .split('"', 1)[0]
        )
        for path, data in (
            ("notes", {"body": "Vu avec l'équipe"}),
            ("tags", {"tag": "bench"}),
            ("answer", {"body": "Corrigé, merci."}),
        ):
            agent.post(
                f"/console/feedback/{feedback_id}/{path}", data={**data, "csrf_token": token}
            )
        problem_id, build_seconds = prepare_problems(agent, feedback_id, token)
        print(f"[{backend}] similarity index built by the app in {build_seconds:.0f} s", flush=True)
        pages = [
            ("baseline: sign-in form (anonymous)", anonymous, "/console/login"),
            ("reference: signed-in 404 page (agent)", agent, "/console/nowhere"),
            (f"inbox, first page (agent, {int(size):,} rows)", agent, "/console/"),
            (
                "inbox, filtered (status+rating+kind)",
                agent,
                "/console/?status=new&rating=1&kind=malfunction",
            ),
            ("inbox, one procedure", agent, f"/console/?procedure=demarche-{ministry}"),
            (f"inbox, search « {SEARCH_WORD} »", agent, f"/console/?q={SEARCH_WORD}"),
            ("inbox, search two words", agent, "/console/?q=courriel+confirmation"),
            ("inbox, deep page (half-way)", agent, f"/console/?after={cursor}"),
            ("submission page (with suggestions)", agent, f"/console/feedback/{feedback_id}"),
            ("problem page (with candidates)", agent, f"/console/problems/{problem_id}"),
            ("inbox, one problem's reports", agent, f"/console/?probleme={problem_id}"),
            ("inbox, linked to no problem", agent, "/console/?probleme=aucun"),
            ("inbox, similar to a submission", agent, f"/console/?semblables={feedback_id}"),
            # Issue 16: counts within the filters (a GROUP BY once a filter is set), sort,
            # assignment filters, and a submission opened from a filtered list (neighbours).
            ("inbox, chips counted within kind=malfunction", agent, "/console/?kind=malfunction"),
            (
                f"inbox, chips counted within « {SEARCH_WORD} »",
                agent,
                f"/console/?q={SEARCH_WORD}&tri=ancien",
            ),
            ("inbox, oldest first", agent, "/console/?tri=ancien"),
            ("inbox, unassigned", agent, "/console/?attribues=aucun"),
            ("inbox, assigned to me", agent, "/console/?attribues=moi"),
            (
                "submission page from a filtered list (previous/next)",
                agent,
                f"/console/feedback/{feedback_id}?liste=kind%3Dmalfunction%26status%3Dnew",
            ),
            ("inbox, first page (DINUM, all rows)", admin, "/console/"),
            ("inbox, status new (DINUM)", admin, "/console/?status=new"),
            (f"inbox, search « {SEARCH_WORD} » (DINUM)", admin, f"/console/?q={SEARCH_WORD}"),
        ]
        for label, client, path in pages:
            median, p90 = timed(client, path, runs)
            results.append((label, median, p90))
            print(f"[{backend}] {label}: median {median:.1f} ms, p90 {p90:.1f} ms", flush=True)
    return results


def report(backend: str, rows: int, results: list[tuple[str, float, float]]) -> None:
    baseline = results[0][1]
    print(f"\n{backend}, {rows:,} submissions — server time per page (ms)\n")
    print("| page | median | p90 | median / baseline |")
    print("|---|---:|---:|---:|")
    for label, median, p90 in results:
        print(f"| {label} | {median:.1f} | {p90:.1f} | {median / baseline:.1f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        settings = prepare(backend, args.rows, args.reuse)
        try:
            index_costs(settings)
            report(backend, args.rows, measure(backend, settings, args.runs))
        finally:
            if not args.keep:
                drop_database(backend)


if __name__ == "__main__":
    main()
