"""Console speed on a million submissions: inbox pages, search, a deep page, a submission.

    .venv/bin/python bench/console.py [--backend sqlite|postgresql|both] [--rows 1000000]
                                      [--runs 30] [--reuse] [--keep]

Fills a database with `--rows` submissions across 250 procedures and 15 ministries (SQLite:
`/tmp/retour_bench_console.db`, Core executemany in big batches; PostgreSQL: a database
`retour_bench_console` on postgresql://postgres@127.0.0.1:5432/ that the script creates and
drops, loaded with COPY), then measures the server time of each page: the console app is
called in-process through Starlette's TestClient (real middleware, sessions, templates and
database; no network), warmed up, and timed `--runs` times. It prints the median and p90 in
milliseconds and the ratio of the median to a trivial page (the sign-in form) measured in
the same run. `--reuse` keeps a database filled by an earlier run with the same row count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.app import create_app  # noqa: E402
from retour import stats  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.migrate import upgrade  # noqa: E402
from retour.models import Feedback, Ministry, Procedure, StaffUser  # noqa: E402
from retour.settings import Settings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
SQLITE_PATH = Path("/tmp/retour_bench_console.db")
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "retour_bench_console"
PASSWORD = "bench password that is long"
MINISTRIES, PROCEDURES = 15, 250
BATCH = 20_000
SEARCH_WORD = "paiement"

SENTENCES = [
    "Le bouton Valider ne fait rien à l'étape 3.",
    "Impossible de télécharger le justificatif de domicile.",
    "Le paiement par carte est refusé sans explication.",
    "La page met très longtemps à charger sur mobile.",
    "Je n'ai pas reçu le courriel de confirmation.",
    "Très bonne démarche, simple et rapide, merci.",
    "Le formulaire efface ce que j'ai saisi quand je reviens en arrière.",
    "Il manque une rubrique pour les personnes nées à l'étranger.",
    "Le délai de traitement annoncé n'est pas respecté.",
    "Les champs obligatoires ne sont pas indiqués clairement.",
    "Le site ne fonctionne pas avec mon lecteur d'écran.",
    "Je voudrais pouvoir suivre ma demande en ligne.",
    "Le code reçu par SMS a expiré avant que je puisse le saisir.",
    "La photo d'identité est refusée alors qu'elle est conforme.",
    "Merci pour la clarté des explications.",
    "Je ne trouve pas où joindre l'attestation de l'employeur.",
    "Le montant affiché ne correspond pas à mon avis d'imposition.",
    "Le lien dans le courriel ne marche plus.",
    "La connexion avec FranceConnect échoue à chaque fois.",
    "Il faudrait pouvoir enregistrer un brouillon.",
]
KINDS = ["complaint", "change_request", "malfunction", "omission", "praise", "other", None]
KIND_WEIGHTS = [15, 10, 35, 10, 15, 10, 5]
STATUS_WEIGHTS = {
    "new": 40,
    "acknowledged": 20,
    "in_progress": 15,
    "resolved": 15,
    "rejected": 5,
    "spam": 5,
}


# --- Filling -----------------------------------------------------------------------------


def feedback_rows(
    rows: int, procedures: list[tuple[str, int]], now: dt.datetime
) -> Iterator[dict[str, Any]]:
    rng = random.Random(42)
    # Procedures are not equally used: a few big ones, a long tail (Zipf-like weights).
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(procedures))]
    chosen = rng.choices(procedures, weights=weights, k=rows)
    statuses, status_weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    for i in range(rows):
        procedure_id, ministry_id = chosen[i]
        received = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        status = rng.choices(statuses, weights=status_weights)[0]
        comment = ""
        if rng.random() < 0.6:
            comment = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 2)))
        yield {
            "client_id": f"00000000-0000-4000-8000-{i:012x}",
            "receipt": f"B{i:09X}",
            "procedure_id": procedure_id,
            "ministry_id": ministry_id,
            "received_at": received,
            "satisfaction": rng.choices((1, 2, 3), weights=(30, 30, 40))[0],
            "kind": rng.choices(KINDS, weights=KIND_WEIGHTS)[0],
            "comment": comment,
            "pii_categories": "phone" if rng.random() < 0.02 else "",
            "contact_email": None,
            "page_url": "https://www.example.gouv.fr/demarche/etape-3",
            "page_origin": "https://www.example.gouv.fr",
            "origin_registered": rng.random() > 0.01,
            "honeypot": rng.random() < 0.005,
            "locale": "fr",
            "status": status,
            "assignee_id": None,
            "acknowledged_at": received + dt.timedelta(hours=4) if status != "new" else None,
            "updated_at": received,
        }


def fill_register(engine: Engine) -> list[tuple[str, int]]:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(Ministry),
            [
                {
                    "id": m + 1,
                    "slug": f"ministere-{m + 1}",
                    "name": f"Ministère n°{m + 1}",
                    "created_at": now,
                }
                for m in range(MINISTRIES)
            ],
        )
        procedures = [(f"demarche-{p + 1}", p % MINISTRIES + 1) for p in range(PROCEDURES)]
        connection.execute(
            insert(Procedure),
            [
                {
                    "id": pid,
                    "title": f"Démarche en ligne n°{n + 1}",
                    "ministry_id": mid,
                    "url": "https://www.example.gouv.fr/demarche",
                    "description": "",
                    "online": True,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, (pid, mid) in enumerate(procedures)
            ],
        )
        users = [{"email": "admin@bench.gouv.fr", "role": "admin", "ministry_id": None}]
        users += [
            {"email": f"agent{m + 1}@bench.gouv.fr", "role": "agent", "ministry_id": m + 1}
            for m in range(MINISTRIES)
        ]
        password_hash = hasher.hash(PASSWORD)
        connection.execute(
            insert(StaffUser),
            [
                {
                    **u,
                    "password_hash": password_hash,
                    "active": True,
                    "created_at": now,
                    "session_version": 0,
                }
                for u in users
            ],
        )
    return procedures


def _migration_0002() -> Any:
    path = ROOT / "retour" / "migrations" / "versions" / "0002_search.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill_sqlite(engine: Engine, rows: int) -> None:
    procedures = fill_register(engine)
    migration = _migration_0002()
    table = Feedback.__table__  # type: ignore[attr-defined]
    # A plain engine (pysqlite's own transaction handling), so the pragma can be set first.
    loader = create_engine(engine.url)
    with loader.connect() as connection:
        # A bulk load, not a service: no fsync per batch, and the FTS index and the status
        # counters built once at the end rather than by the per-row triggers.
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.exec_driver_sql("DROP TRIGGER feedback_fts_insert")
        connection.exec_driver_sql("DROP TRIGGER feedback_count_insert")
        batch: list[dict[str, Any]] = []
        for row in feedback_rows(rows, procedures, dt.datetime.now(dt.UTC)):
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(insert(table), batch)
                connection.commit()
                batch = []
        if batch:
            connection.execute(insert(table), batch)
        connection.exec_driver_sql("INSERT INTO feedback_fts(feedback_fts) VALUES ('rebuild')")
        connection.exec_driver_sql(migration.SQLITE_UP[1])  # the insert triggers, back
        connection.exec_driver_sql(migration.COUNT_FILL)
        connection.exec_driver_sql(migration.COUNT_SQLITE_UP[0])
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    loader.dispose()


def fill_postgresql(engine: Engine, rows: int) -> None:
    procedures = fill_register(engine)
    migration = _migration_0002()
    columns = list(next(feedback_rows(1, procedures, dt.datetime.now(dt.UTC))).keys())
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # Building the GIN index once after COPY is far quicker than maintaining it per row.
        cursor.execute("DROP INDEX ix_feedback_comment_fts")
        with cursor.copy(f"COPY feedback ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in feedback_rows(rows, procedures, dt.datetime.now(dt.UTC)):
                copy.write_row([row[c] for c in columns])
        cursor.execute(migration.POSTGRES_UP[-1])
        raw.commit()
        cursor.close()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE feedback")


def prepare(backend: str, rows: int, reuse: bool) -> Settings:
    if backend == "sqlite":
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = make_url(PG_SERVER).set(database=PG_NAME).render_as_string(hide_password=False)
    settings = Settings(database_url=url, secret_key=SECRET, public_min_count=100)
    if reuse and database_rows(settings) == rows:
        print(f"[{backend}] reusing the database ({rows:,} submissions)", flush=True)
        return settings
    drop_database(backend)
    if backend == "postgresql":
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        admin.dispose()
    engine = make_engine(settings)
    upgrade(engine)
    started = time.perf_counter()
    (fill_sqlite if backend == "sqlite" else fill_postgresql)(engine, rows)
    loaded = time.perf_counter()
    stats.refresh(engine, full=True)
    print(
        f"[{backend}] loaded {rows:,} submissions in {loaded - started:.0f} s, "
        f"daily summary in {time.perf_counter() - loaded:.0f} s",
        flush=True,
    )
    engine.dispose()
    return settings


def database_rows(settings: Settings) -> int:
    try:
        engine = make_engine(settings)
        with engine.connect() as connection:
            count = int(connection.execute(text("SELECT count(*) FROM feedback")).scalar_one())
        engine.dispose()
        return count
    except Exception:
        return -1


def drop_database(backend: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
    admin.dispose()


# --- Measuring ---------------------------------------------------------------------------


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
    from console.inbox_query import Cursor

    return int(ministry), Cursor(received, int(ident)).encode(), int(feedback_id), str(size)


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
            ("submission page", agent, f"/console/feedback/{feedback_id}"),
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
            report(backend, args.rows, measure(backend, settings, args.runs))
        finally:
            if not args.keep:
                drop_database(backend)


if __name__ == "__main__":
    main()
