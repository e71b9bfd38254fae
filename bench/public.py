"""Public pages' speed on millions of submissions: dashboard, a procedure page, open data.

    .venv/bin/python bench/public.py [--backend sqlite|postgresql|both]
                                     [--rows 10000000 [--rows 100000 ...]] [--runs 30]

For each backend and each `--rows`, it fills a throwaway database (SQLite:
`/tmp/retour_bench_public/bench.db`; PostgreSQL: a database `retour_bench_public` on
postgresql://postgres@127.0.0.1:5432/ that it creates and drops) with that many submissions
over two years across 250 procedures and 20 ministries, generated inside the database (a
recursive CTE on SQLite, `generate_series` on PostgreSQL, one million rows per transaction,
secondary indexes dropped during the load and rebuilt after). The summary tables are then
built by the real code (`retour.stats.refresh`). Each page is requested in-process through
Starlette's TestClient (real middleware, templates and database, no network), warmed up and
timed `--runs` times; it prints the median and p90 in milliseconds and the ratio of the median
to a trivial page (`/accessibilite`, a template with no database) measured in the same run,
and the median CPU time of this process (PostgreSQL's own work is not in it). The server time
is taken inside the app (an ASGI wrapper), so the test client's overhead is not counted.

Triggers are off during the load and what they maintain (the inbox's status counts) is rebuilt
after it. The load leaves the SQLite full-text index (used only by the staff inbox's search)
empty and skips PostgreSQL's GIN index on comments: neither is read by the pages measured here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.app import create_app  # noqa: E402
from retour import stats  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.migrate import upgrade  # noqa: E402
from retour.models import UTCDateTime, utcnow  # noqa: E402
from retour.settings import Settings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
SQLITE_DIR = Path("/tmp/retour_bench_public")
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "retour_bench_public"
MINISTRIES, PROCEDURES = 20, 250
CHUNK = 1_000_000
DAYS = 730

# One submission per n: every column derived from n, so the data is the same on both backends.
COLUMNS = (
    "client_id, receipt, procedure_id, ministry_id, received_at, satisfaction, kind, comment, "
    "pii_categories, page_origin, origin_registered, honeypot, locale, status, "
    "acknowledged_at, updated_at"
)
STATUS = (
    "CASE WHEN n % 97 = 0 THEN 'spam' WHEN n % 10 < 4 THEN 'new' WHEN n % 10 = 4 THEN "
    "'acknowledged' WHEN n % 10 < 7 THEN 'in_progress' WHEN n % 10 < 9 THEN 'resolved' "
    "ELSE 'rejected' END"
)
KIND = (
    "CASE n % 7 WHEN 0 THEN NULL WHEN 1 THEN 'complaint' WHEN 2 THEN 'change_request' "
    "WHEN 3 THEN 'malfunction' WHEN 4 THEN 'omission' WHEN 5 THEN 'praise' ELSE 'other' END"
)
SATISFACTION = "CASE WHEN (n / 10) % 10 < 5 THEN 3 WHEN (n / 10) % 10 < 8 THEN 2 ELSE 1 END"
# Seconds before now; at least three days, so that no acknowledgement lies in the future.
AGE = f"(259200 + (n * 7907) % {DAYS * 86400})"
ACK = "((n * 7919) % 259200)"  # seconds after receipt, up to three days


def sqlite_select() -> str:
    received = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || {AGE} || ' seconds') || '000'"
    acked = (
        f"CASE WHEN n % 10 < 4 AND n % 97 <> 0 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%f', "
        f"'now', '-' || {AGE} || ' seconds', '+' || {ACK} || ' seconds') || '000' END"
    )
    return f"""
        WITH RECURSIVE seq(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM seq WHERE n < :hi)
        SELECT printf('%036d', n), printf('%010d', n), p.id, p.ministry_id, {received},
               {SATISFACTION}, {KIND}, 'Commentaire de banc d''essai',
               CASE WHEN n % 23 = 0 THEN 'phone' ELSE '' END, 'https://www.example.gouv.fr',
               1, n % 499 = 0, 'fr', {STATUS}, {acked}, COALESCE({acked}, {received})
        FROM seq JOIN bench_procedure p ON p.idx = n % {PROCEDURES}
    """


def postgres_select() -> str:
    received = f"now() - make_interval(secs => {AGE})"
    acked = (
        f"CASE WHEN n % 10 < 4 AND n % 97 <> 0 THEN NULL "
        f"ELSE {received} + make_interval(secs => {ACK}) END"
    )
    return f"""
        SELECT lpad(n::text, 36, '0'), lpad(n::text, 10, '0'), p.id, p.ministry_id, {received},
               {SATISFACTION}, {KIND}, 'Commentaire de banc d''essai',
               CASE WHEN n % 23 = 0 THEN 'phone' ELSE '' END, 'https://www.example.gouv.fr',
               true, n % 499 = 0, 'fr', {STATUS}, {acked}, COALESCE({acked}, {received})
        FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS n
        JOIN bench_procedure p ON p.idx = n % {PROCEDURES}
    """


def fill_register(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "CREATE TABLE bench_procedure (idx INTEGER PRIMARY KEY, id TEXT, "
                "ministry_id INTEGER)"
            )
        )
        for m in range(MINISTRIES):
            c.execute(
                text(
                    "INSERT INTO ministry (slug, name, created_at) VALUES (:s, :n, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"s": f"ministere-{m}", "n": f"Ministère {m}"},
            )
        ministry_ids = [r[0] for r in c.execute(text("SELECT id FROM ministry ORDER BY id"))]
        for i in range(PROCEDURES):
            pid, mid = f"demarche-{i:04d}", ministry_ids[i % MINISTRIES]
            c.execute(
                text(
                    "INSERT INTO procedure (id, title, ministry_id, url, description, online, "
                    "active, created_at, updated_at) VALUES (:id, :t, :m, :u, '', true, true, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {
                    "id": pid,
                    "t": f"Démarche en ligne n° {i}",
                    "m": mid,
                    "u": f"https://www.example.gouv.fr/{pid}",
                },
            )
            c.execute(
                text("INSERT INTO procedure_origin VALUES (:id, 'https://www.example.gouv.fr')"),
                {"id": pid},
            )
            c.execute(
                text("INSERT INTO bench_procedure VALUES (:i, :id, :m)"),
                {"i": i, "id": pid, "m": mid},
            )
        c.execute(
            text(
                "INSERT INTO staff_user (email, password_hash, role, ministry_id, active, "
                "created_at, session_version) VALUES ('bench@example.gouv.fr', 'x', 'admin', "
                "NULL, true, CURRENT_TIMESTAMP, 0)"
            )
        )
        # Impressions: 30 days; four procedures in five seen on their origin, some elsewhere.
        today = time.strftime("%Y-%m-%d")
        rows = []
        for i in range(PROCEDURES):
            for d in range(30):
                day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - d * 86400))
                origin = "https://www.example.gouv.fr" if i % 5 else "https://copie.example.com"
                for event, count in (("view", 500 + i), ("open", 20 + i % 7)):
                    rows.append(
                        {"p": f"demarche-{i:04d}", "d": day, "o": origin, "e": event, "c": count}
                    )
        c.execute(
            text("INSERT INTO impression_count VALUES (:p, :d, :o, :e, :c, CURRENT_TIMESTAMP)"),
            rows,
        )
        assert today


def _secondary_indexes(c: Any, dialect: str) -> list[str]:
    """Drop feedback's secondary indexes (and FTS triggers); return the SQL to rebuild them."""
    if dialect == "sqlite":
        found = c.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'feedback' "
                "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
            )
        ).all()
        for name, sql in found:
            kind = "TRIGGER" if sql.upper().startswith("CREATE TRIGGER") else "INDEX"
            c.execute(text(f"DROP {kind} {name}"))
        return [sql for _, sql in found]
    found = c.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'feedback' AND i.indexname NOT LIKE '%pkey' "
            "AND i.indexdef NOT LIKE 'CREATE UNIQUE%'"
        )
    ).all()
    for name, _ in found:
        c.execute(text(f'DROP INDEX "{name}"'))
    return [sql for name, sql in found if name != "ix_feedback_comment_fts"]


def fill(settings: Settings, rows: int) -> float:
    engine = make_engine(settings)
    upgrade(engine)
    dialect = engine.dialect.name
    started = time.perf_counter()
    fill_register(engine)
    with engine.begin() as c:
        rebuild = _secondary_indexes(c, dialect)
    select = sqlite_select() if dialect == "sqlite" else postgres_select()
    statement = text(f"INSERT INTO feedback ({COLUMNS}) {select}")
    for lo in range(1, rows + 1, CHUNK):
        with engine.begin() as c:
            c.execute(statement, {"lo": lo, "hi": min(lo + CHUNK - 1, rows)})
        print(
            f"  {min(lo + CHUNK - 1, rows):>11,} rows  {time.perf_counter() - started:6.1f} s",
            flush=True,
        )
    with engine.begin() as c:
        for sql in rebuild:
            if dialect == "sqlite" and "feedback_fts" in sql and "TRIGGER" in sql.upper():
                c.execute(text(sql))  # triggers back, for later writes; the FTS stays empty
            elif "feedback_fts" not in sql:
                c.execute(text(sql))
        c.execute(
            text(
                "INSERT INTO public_answer (feedback_id, procedure_id, ministry_id, body, "
                "author_id, published_at) SELECT id, procedure_id, ministry_id, "
                "'Merci : nous avons corrigé l''étape signalée.', 1, acknowledged_at "
                "FROM feedback WHERE id % 1000 = 7 AND status IN ('resolved', 'in_progress')"
            )
        )
        # Triggers were off during the load: rebuild what they keep (the inbox's counts).
        c.execute(text("DELETE FROM feedback_status_count"))
        c.execute(
            text(
                "INSERT INTO feedback_status_count (procedure_id, status, ministry_id, count) "
                "SELECT procedure_id, status, MIN(ministry_id), COUNT(*) FROM feedback "
                "WHERE NOT honeypot GROUP BY procedure_id, status"
            )
        )
        if dialect == "postgresql":
            c.execute(text("ALTER TABLE feedback ENABLE TRIGGER USER"))
            c.execute(text("ANALYZE"))
    print(f"  indexes and answers  {time.perf_counter() - started:6.1f} s", flush=True)
    result = stats.refresh(engine)
    took = time.perf_counter() - started
    print(
        f"  summary built by retour.stats.refresh (full={result.full})  {took:6.1f} s", flush=True
    )
    engine.dispose()
    return took


def prepare(backend: str, rows: int) -> Settings:
    if backend == "sqlite":
        shutil.rmtree(SQLITE_DIR, ignore_errors=True)
        SQLITE_DIR.mkdir(parents=True)
        url = f"sqlite:///{SQLITE_DIR / 'bench.db'}"
    else:
        drop_database()
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        admin.dispose()
        url = make_url(PG_SERVER).set(database=PG_NAME).render_as_string(hide_password=False)
    return Settings(database_url=url, secret_key=SECRET, public_min_count=100)


def drop_database() -> None:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
    admin.dispose()


class ServerTimer:
    """ASGI wrapper: the server's own time for the last request (wall clock and CPU)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.wall = self.cpu = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wall, cpu = time.perf_counter(), time.process_time()
        await self.app(scope, receive, send)
        self.wall = (time.perf_counter() - wall) * 1000
        self.cpu = (time.process_time() - cpu) * 1000


def incremental(settings: Settings, new: int = 1000, changed: int = 200) -> float:
    """Milliseconds of one `refresh` after `new` submissions and `changed` status changes."""
    engine = make_engine(settings)
    with engine.begin() as c:
        top = c.execute(text("SELECT MAX(id) FROM feedback")).scalar_one()
        c.execute(
            text(
                "INSERT INTO feedback (client_id, receipt, procedure_id, ministry_id, received_at, "
                "satisfaction, comment, pii_categories, origin_registered, honeypot, locale, "
                "status, updated_at) SELECT 'inc-' || id, 'INC' || id, procedure_id, ministry_id, "
                ":now, satisfaction, '', '', true, false, 'fr', 'new', :now FROM feedback "
                "WHERE id > :top - :new"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"now": utcnow(), "top": top, "new": new},
        )
        c.execute(
            text(
                "UPDATE feedback SET status = 'acknowledged', acknowledged_at = :now, "
                "updated_at = :now WHERE id IN (SELECT id FROM feedback WHERE status = 'new' "
                "AND id <= :top ORDER BY id DESC LIMIT :changed)"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"now": utcnow(), "top": top, "changed": changed},
        )
    start = time.perf_counter()
    result = stats.refresh(engine)
    took = (time.perf_counter() - start) * 1000
    print(
        f"  incremental refresh: {new} new + {changed} status changes -> {result.groups} "
        f"groups recounted in {took:.0f} ms",
        flush=True,
    )
    engine.dispose()
    return took


PAGES = (
    ("/accessibilite (baseline)", "/accessibilite"),
    ("/", "/"),
    ("/?sort=score&order=desc&live=yes", "/?sort=score&order=desc&live=yes"),
    ("/procedures/demarche-0001", "/procedures/demarche-0001"),
    ("/open-data/procedures.csv", "/open-data/procedures.csv"),
    ("/open-data/procedures.json", "/open-data/procedures.json"),
    ("/open-data/answers.csv", "/open-data/answers.csv"),
    ("/open-data/answers.json", "/open-data/answers.json"),
    # The observatory (issue 18): every indicator declared, two editions kept.
    ("/observatoire", "/observatoire"),
    (
        "/observatoire?indicateur=accessibility&niveau=poor&tri=reports&ordre=desc",
        "/observatoire?indicateur=accessibility&niveau=poor&tri=reports&ordre=desc",
    ),
    ("/open-data/indicators.csv", "/open-data/indicators.csv"),
    ("/open-data/indicators.json", "/open-data/indicators.json"),
)


def fill_observatory(settings: Settings) -> None:
    """Every procedure declares its seven indicators; two past editions are kept."""
    import datetime as dt

    from sqlmodel import Session, select

    from retour.editions import take_snapshot
    from retour.indicators_store import declare
    from retour.models import Procedure

    engine = make_engine(settings)
    now = utcnow()
    values = {"online": ("full", ""), "accessibility": ("75", "https://www.example.gouv.fr/a11y"),
              "franceconnect": ("yes", ""), "dlnuf": ("2", ""), "help": ("phone email", "Contact"),
              "online_share": ("64", ""), "yearly_volume": ("250000", "")}  # fmt: skip
    with Session(engine) as session:
        procedures = session.exec(select(Procedure.id, Procedure.ministry_id)).all()
        for days, edition in ((200, "2026-Q2"), (100, "2026-Q3"), (10, "")):
            at = now - dt.timedelta(days=days)
            for pid, ministry_id in procedures:
                for name, (value, detail) in values.items():
                    declare(session, procedure_id=pid, ministry_id=ministry_id, indicator=name,
                            value=value if days > 10 else value.replace("75", "80"),
                            detail=detail, evidence="bench", actor_id=None, actor_label="bench",
                            now=at)  # fmt: skip
            if edition:
                take_snapshot(session, min_count=settings.public_min_count, edition=edition, now=at)
        session.commit()
    engine.dispose()


def measure(settings: Settings, runs: int) -> list[tuple[str, float, float, float]]:
    """Median server wall time, p90, and median CPU time of this process, per page.

    Pages are requested round-robin (each run requests every page once), so that a burst of
    load on this shared machine weighs on every page alike, baseline included.
    """
    timer = ServerTimer(create_app(settings))
    walls: dict[str, list[float]] = {label: [] for label, _ in PAGES}
    cpus: dict[str, list[float]] = {label: [] for label, _ in PAGES}
    with TestClient(timer) as client:
        for run in range(runs + 3):
            for label, path in PAGES:
                assert client.get(path).status_code == 200, path
                if run >= 3:  # warm-up
                    walls[label].append(timer.wall)
                    cpus[label].append(timer.cpu)
    results = []
    for label, _ in PAGES:
        times = sorted(walls[label])
        p90 = times[max(0, int(len(times) * 0.9) - 1)]
        results.append((label, statistics.median(times), p90, statistics.median(cpus[label])))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        for rows in args.rows or [10_000_000]:
            print(f"\n{backend}: filling {rows:,} submissions", flush=True)
            settings = prepare(backend, rows)
            took = fill(settings, rows)
            incremental(settings)
            fill_observatory(settings)
            results = measure(settings, args.runs)
            base = results[0][1]
            print(
                f"\n{backend}, {rows:,} submissions (filled in {took:.0f} s), server time, "
                f"median of {args.runs} after warm-up; load average {os.getloadavg()[0]:.1f}:"
            )
            print(f"  {'page':<36} {'median ms':>10} {'p90 ms':>8} {'ratio':>7} {'cpu ms':>7}")
            for label, median, p90, cpu in results:
                print(
                    f"  {label:<36} {median:>10.1f} {p90:>8.1f} {median / base:>7.1f} {cpu:>7.1f}"
                )
            if backend == "postgresql":
                drop_database()
            else:
                shutil.rmtree(SQLITE_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
