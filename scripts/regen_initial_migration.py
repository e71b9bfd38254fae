"""Regenerate retour/migrations/versions/0001_initial.py from the models.

Only while the project has never been released: once a database exists in
production, schema changes go in new migrations instead. Later hand-written
migrations (0002_*, ...) are set aside during generation and put back.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from alembic import command

from retour.db import make_engine
from retour.migrate import MIGRATIONS_DIR, alembic_config
from retour.settings import Settings

VERSIONS = MIGRATIONS_DIR / "versions"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        aside = Path(tmp) / "aside"
        aside.mkdir()
        for path in VERSIONS.glob("*.py"):
            shutil.move(str(path), aside / path.name)
        try:
            settings = Settings(database_url=f"sqlite:///{tmp}/empty.db", secret_key="x" * 40)
            engine = make_engine(settings)
            config = alembic_config()
            with engine.connect() as connection:
                config.attributes["connection"] = connection
                command.revision(config, message="initial", autogenerate=True, rev_id="0001")
            generated = next(VERSIONS.glob("0001_*.py"))
            generated.rename(VERSIONS / "0001_initial.py")
        finally:
            for path in aside.glob("*.py"):
                if not path.name.startswith("0001_"):
                    shutil.move(str(path), VERSIONS / path.name)


if __name__ == "__main__":
    main()
