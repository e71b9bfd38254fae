"""Copy the front-end files the services serve out of node_modules (run by `make`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DSFR_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
DSFR_TARGET = ROOT / "console" / "static" / "dsfr"
# The hosted form (ingest) keeps its own copy: ingest never imports console.
INGEST_DSFR_TARGET = ROOT / "ingest" / "static" / "dsfr"
WIDGET_BUILD = ROOT / "widget" / "build.mjs"
WIDGET_ASSEMBLED = ROOT / "widget" / "dist" / "assembled"
WIDGET_NAMES = ("loader.js", "dialog.js", "dialog.css")
# Only what the pages use: the stylesheet, its fonts and icons, and the script.
DSFR_FILES = (
    "dsfr.min.css",
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    "utility/icons/icons.min.css",
)
DSFR_DIRS = ("fonts", "icons", "favicon")


def main() -> None:
    if not DSFR_DIST.is_dir():
        raise SystemExit(
            "node_modules/@gouvfr/dsfr is missing: run `npm ci --ignore-scripts` first"
        )
    for root in (DSFR_TARGET, INGEST_DSFR_TARGET):
        copy_dsfr(root)
    # The widget: assembled here (the same code serves the sources when dist/ is missing, and
    # applies French typography to its words), then minified by terser and csso.
    from ingest.widget_routes import source_assets

    WIDGET_ASSEMBLED.mkdir(parents=True, exist_ok=True)
    for name, text in zip(WIDGET_NAMES, source_assets(ROOT / "widget" / "src"), strict=True):
        (WIDGET_ASSEMBLED / name).write_text(text, encoding="utf-8")
    subprocess.run(["node", str(WIDGET_BUILD)], check=True)  # noqa: S603, S607


def copy_dsfr(root: Path) -> None:
    for name in DSFR_FILES:
        source = DSFR_DIST / name
        if source.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for name in DSFR_DIRS:
        source = DSFR_DIST / name
        if source.is_dir():
            shutil.copytree(source, root / name, dirs_exist_ok=True)


if __name__ == "__main__":
    main()
