"""The console benchmark's database: a million submissions, loaded in bulk, and dropped.

`bench/console.py` measures the console's pages on it. SQLite: `/tmp/retour_bench_console.db`,
Core executemany in big batches; PostgreSQL: a database `retour_bench_console` on
postgresql://postgres@127.0.0.1:5432/ that is created and dropped, loaded with COPY. The
full-text indexes and status counters are built once after the load, as the migration builds
them, rather than row by row.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retour import stats  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.migrate import upgrade  # noqa: E402
from retour.models import Feedback, Ministry, Procedure, StaffUser  # noqa: E402
from retour.settings import Settings  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
SQLITE_PATH = Path("/tmp/retour_bench_console.db")
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "retour_bench_console"
PASSWORD = "bench password that is long"
MINISTRIES, PROCEDURES = 15, 250
BATCH = 20_000

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
