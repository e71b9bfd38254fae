"""Speed of the register and people pages, and of signing in.

    .venv/bin/python bench/console_register.py [--backend sqlite|postgresql] [--runs 30]

Fills a fresh database with 15 ministries, 250 procedures (2 origins each), 90 days of
impression counts (view and open, on a registered and an unregistered origin: 90,000 rows)
and 300 accounts, then times pages through Starlette's TestClient (real middleware, session,
templates and database; no network): the median and p90 server time in milliseconds, and the
ratio of the median to the sign-in form measured in the same run. Sign-in itself is timed
too: it is dominated by argon2 on purpose.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.app import create_app  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.migrate import upgrade  # noqa: E402
from retour.models import (  # noqa: E402
    ImpressionCount,
    Ministry,
    Procedure,
    ProcedureOrigin,
    StaffUser,
    utcnow,
)
from retour.passwords import hash_password  # noqa: E402
from retour.settings import Settings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery staple"


def fill(settings: Settings) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    now = utcnow()
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with engine.begin() as db:
        db.execute(
            insert(Ministry),
            [
                {"id": m, "slug": f"ministere-{m}", "name": f"Ministère {m}", "created_at": now}
                for m in range(1, 16)
            ],
        )
        procedures = [
            {
                "id": f"demarche-{p}",
                "title": f"Démarche n°{p}",
                "ministry_id": p % 15 + 1,
                "url": f"https://d{p}.example.gouv.fr/",
                "description": "",
                "online": True,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for p in range(250)
        ]
        db.execute(insert(Procedure), procedures)
        db.execute(
            insert(ProcedureOrigin),
            [
                {"procedure_id": p["id"], "origin": o}
                for p in procedures
                for o in (p["url"].rstrip("/"), "https://www.service-public.fr")
            ],
        )
        rows = []
        for p in procedures:
            for day in range(90):
                seen = now - dt.timedelta(days=day)
                for origin in (p["url"].rstrip("/"), "https://copie.example.com"):
                    for event in ("view", "open"):
                        rows.append(
                            {
                                "procedure_id": p["id"],
                                "day": seen.date(),
                                "origin": origin,
                                "event": event,
                                "count": 50,
                                "last_seen_at": seen,
                            }
                        )
        for start in range(0, len(rows), 10_000):
            db.execute(insert(ImpressionCount), rows[start : start + 10_000])
        db.execute(
            insert(StaffUser),
            [
                {
                    "email": f"agent{u}@example.gouv.fr",
                    "password_hash": cheap,
                    "role": ("agent", "viewer", "ministry_admin")[u % 3],
                    "ministry_id": u % 15 + 1,
                    "active": True,
                    "session_version": 0,
                    "created_at": now,
                }
                for u in range(300)
            ],
        )
        db.execute(
            insert(StaffUser),
            [
                {
                    "email": "admin@example.gouv.fr",
                    "password_hash": hash_password(PASSWORD),
                    "role": "admin",
                    "ministry_id": None,
                    "active": True,
                    "session_version": 0,
                    "created_at": now,
                }
            ],
        )
    engine.dispose()


def timed(client: Any, method: str, url: str, runs: int, **kwargs: Any) -> list[float]:
    for _ in range(3):
        getattr(client, method)(url, **kwargs)  # warm up caches and templates
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 303), (url, response.status_code)
    return times


def sign_in(client: Any, email: str) -> Any:
    page = client.get("/console/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )


def run(settings: Settings, runs: int) -> None:
    app = create_app(settings)
    with TestClient(app, follow_redirects=False) as admin:
        baseline = statistics.median(timed(admin, "get", "/console/login", runs))
        assert sign_in(admin, "admin@example.gouv.fr").status_code == 303
        pages = {
            "register, all 250 (admin)": "/console/procedures",
            "register, one ministry (admin filter)": "/console/procedures?ministere=3",
            "procedure page (90 days x 2 origins)": "/console/procedures/demarche-7",
            "people, all 301 (admin)": "/console/users",
        }
        print(f"  {'page':42} {'median ms':>10} {'p90 ms':>8} {'x sign-in form':>15}")
        print(f"  {'sign-in form (baseline)':42} {baseline:10.1f} {'':>8} {1.0:15.1f}")
        for label, url in pages.items():
            times = timed(admin, "get", url, runs)
            median = statistics.median(times)
            p90 = statistics.quantiles(times, n=10)[-1]
            print(f"  {label:42} {median:10.1f} {p90:8.1f} {median / baseline:15.1f}")
    times = []
    for _ in range(max(3, runs // 5)):
        with TestClient(app, follow_redirects=False) as client:
            start = time.perf_counter()
            assert sign_in(client, "admin@example.gouv.fr").status_code == 303
            times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(
        f"  {'sign in (form + argon2 verify)':42} {median:10.1f} {'':>8} {median / baseline:15.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", secret_key=SECRET)
            fill(settings)
            print("SQLite")
            run(settings, args.runs)
        return
    name = f"retour_bench_register_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
        settings = Settings(database_url=url, secret_key=SECRET)
        fill(settings)
        print("PostgreSQL")
        run(settings, args.runs)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
