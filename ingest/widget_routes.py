"""GET /widget.js and the dialog assets it loads lazily: versioned, cacheable, precompressed.

The loader's URL is fixed (it is in every snippet), so it is cached briefly and revalidated
with its ETag. The dialog's URLs carry a hash of their content, so they are cached for a year:
a new release changes the hash that the server writes into the loader.

The assets come from `widget/dist/` (minified by `scripts/build_assets.py` from what
`source_assets` assembles); when that has not been built, `source_assets`' output is served
as it is, so a checkout without Node still works.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from retour.typography import french_spacing_in_js

log = logging.getLogger("retour.ingest")

WIDGET_DIR: Final = Path(__file__).resolve().parents[1] / "widget"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
STATIC_NAME: Final = "ingest_static"
# The dialog script's parts, in order, wrapped in one IIFE.
DIALOG_PARTS: Final = ("pii.js", "texts.js", "send.js", "dialog.js")
# The parts holding words for people: French typography is applied to their string literals.
WORDED_PARTS: Final = frozenset({"loader.js", "texts.js"})
VERSION_PLACEHOLDER: Final = "__RETOUR_VERSION__"
LOADER_MAX_AGE: Final = 300  # a new release reaches every page within five minutes
IMMUTABLE: Final = "public, max-age=31536000, immutable"
JS: Final = "text/javascript; charset=utf-8"
CSS: Final = "text/css; charset=utf-8"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, text: str, media_type: str) -> Asset:
        body = text.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:16]
        # mtime=0: the same bytes on every server, so a load balancer's nodes agree.
        return cls(body, gzip.compress(body, 9, mtime=0), media_type, f'"{digest}"')


@dataclass(frozen=True)
class WidgetAssets:
    version: str
    loader: Asset
    dialog_js: Asset
    dialog_css: Asset
    minified: bool


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return french_spacing_in_js(text) if path.name in WORDED_PARTS else text


def source_assets(src: Path) -> tuple[str, str, str]:
    """loader.js, the dialog script and dialog.css, assembled: what widget/build.mjs minifies."""
    parts = [_read(src / name) for name in DIALOG_PARTS if (src / name).is_file()]
    dialog = "(function () {\n'use strict';\n" + "\n".join(parts) + "\n})();\n"
    return _read(src / "loader.js"), dialog, _read(src / "dialog.css")


def build_assets(widget_dir: Path = WIDGET_DIR) -> WidgetAssets:
    dist = widget_dir / "dist"
    names = ("loader.js", "dialog.js", "dialog.css")
    minified = all((dist / name).is_file() for name in names)
    if minified:
        loader, dialog_js, dialog_css = (
            (dist / name).read_text(encoding="utf-8") for name in names
        )
    else:
        log.warning("widget/dist is not built: serving the widget unminified (run `make assets`)")
        loader, dialog_js, dialog_css = source_assets(widget_dir / "src")
    version = hashlib.sha256(f"{dialog_js}\0{dialog_css}".encode()).hexdigest()[:12]
    return WidgetAssets(
        version=version,
        loader=Asset.of(loader.replace(VERSION_PLACEHOLDER, version), JS),
        dialog_js=Asset.of(dialog_js, JS),
        dialog_css=Asset.of(dialog_css, CSS),
        minified=minified,
    )


@cache
def widget_assets() -> WidgetAssets:
    """Read once per process: the files change only with a release (and a restart)."""
    return build_assets()


def serve(request: Request, asset: Asset, cache_control: str) -> Response:
    headers = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        # Pages that isolate themselves (COEP) may still load the widget.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, media_type=asset.media_type)


async def loader(request: Request) -> Response:
    cache_control = f"public, max-age={LOADER_MAX_AGE}"
    return serve(request, widget_assets().loader, cache_control)


def _versioned(request: Request, asset: Asset) -> Response:
    # An old loader asking for an older version (during a deploy) gets today's files,
    # cached briefly so that the old URL does not keep them for a year.
    current = request.path_params["version"] == widget_assets().version
    return serve(request, asset, IMMUTABLE if current else f"public, max-age={LOADER_MAX_AGE}")


async def dialog_js(request: Request) -> Response:
    return _versioned(request, widget_assets().dialog_js)


async def dialog_css(request: Request) -> Response:
    return _versioned(request, widget_assets().dialog_css)


widget_routes: Final = [
    # The hosted form's and the demo page's DSFR and styles (under /widget: routed to ingest).
    Mount("/widget/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name=STATIC_NAME),
    Route("/widget.js", loader, methods=["GET", "HEAD"]),
    Route("/widget/{version}/dialog.js", dialog_js, methods=["GET", "HEAD"]),
    Route("/widget/{version}/dialog.css", dialog_css, methods=["GET", "HEAD"]),
]
