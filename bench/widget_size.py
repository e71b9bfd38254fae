"""What the widget costs a procedure page: each asset raw and gzipped, against its budget.

    .venv/bin/python bench/widget_size.py

Sizes are what the service sends (widget/dist, built by `make assets`; the form configuration
fetched from a real server on a scratch SQLite database). Ratios: against the budgets
(loader 1.5 KB, everything for one submission 12 KB, gzipped) and against the unminified
sources measured in the same run.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlmodel import Session

# Run as a script, bench/ comes first on sys.path, and bench/ingest.py would hide the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from ingest.app import create_app  # noqa: E402
from ingest.widget_routes import WIDGET_DIR, build_assets, source_assets  # noqa: E402
from retour.db import make_engine  # noqa: E402
from retour.migrate import upgrade  # noqa: E402
from retour.models import Ministry, Procedure  # noqa: E402
from retour.settings import Settings  # noqa: E402

LOADER_BUDGET = 1536
FULL_BUDGET = 12 * 1024
TITLE = "Demande de carte nationale d'identité ou de passeport (pré-demande en ligne)"


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def form_config_body(directory: Path) -> bytes:
    settings = Settings(database_url=f"sqlite:///{directory / 'bench.db'}", secret_key="b" * 48)
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        ministry = Ministry(slug="ministere-de-l-interieur", name="Ministère de l'Intérieur")
        session.add(ministry)
        session.flush()
        assert ministry.id is not None
        session.add(
            Procedure(
                id="carte-identite", title=TITLE, ministry_id=ministry.id, url="https://x.gouv.fr"
            )
        )
        session.commit()
    engine.dispose()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        return httpx.get(
            f"http://127.0.0.1:{port}/api/v1/procedures/carte-identite/form?lang=fr"
        ).content
    finally:
        server.should_exit = True
        thread.join()


def main() -> None:
    assets = build_assets()
    if not assets.minified:
        raise SystemExit("widget/dist is not built: run `make assets` first")
    loader_src, dialog_src, css_src = source_assets(WIDGET_DIR / "src")
    with tempfile.TemporaryDirectory() as directory:
        config = form_config_body(Path(directory))
    rows = [
        ("widget.js (loader)", assets.loader.body, loader_src),
        ("dialog.js (+ pii.js)", assets.dialog_js.body, dialog_src),
        ("dialog.css", assets.dialog_css.body, css_src),
        ("form configuration", config, None),
    ]
    print(f"{'asset':<24}{'raw B':>9}{'gzip B':>9}{'gzip/source gzip':>18}")
    total = 0
    for name, body, source in rows:
        size = gz(body)
        total += size
        versus = f"{size / gz(source.encode()):.2f}" if source else "-"
        print(f"{name:<24}{len(body):>9}{size:>9}{versus:>18}")
    loader = gz(assets.loader.body)
    print(f"loader: {loader} B gzipped = {loader / LOADER_BUDGET:.2f} of its 1.5 KB budget")
    print(f"one submission: {total} B gzipped = {total / FULL_BUDGET:.2f} of its 12 KB budget")


if __name__ == "__main__":
    main()
