"""GET /widget.js and the dialog assets: the size budget, caching, versioning, no cookie."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from ingest.widget_routes import widget_assets
from retour.models import Procedure

LOADER_BUDGET = 1536  # bytes gzipped: the loader is on every procedure page
FULL_BUDGET = 12 * 1024  # bytes gzipped: everything fetched for one submission
GZIP = {"Accept-Encoding": "gzip"}


def wire_size(response: httpx.Response) -> int:
    """Bytes on the wire: the gzipped body when the server compressed it, else gzip -9 of it."""
    if response.headers.get("content-encoding") == "gzip":
        return int(response.headers["content-length"])
    return len(gzip.compress(response.content, 9))


def dialog_urls(loader: str) -> tuple[str, str]:
    version = widget_assets().version
    assert f'"{version}"' in loader, "the loader must name the dialog's version"
    return f"/widget/{version}/dialog.js", f"/widget/{version}/dialog.css"


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    if not widget_assets().minified:
        pytest.fail("widget/dist is not built: run `make assets` (make test does it)")


def test_loader_is_within_its_budget(client: httpx.Client) -> None:
    response = client.get("/widget.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert wire_size(response) <= LOADER_BUDGET


def test_everything_for_one_submission_is_within_budget(
    client: httpx.Client, procedure: Procedure
) -> None:
    loader = client.get("/widget.js", headers=GZIP)
    script, style = dialog_urls(loader.text)
    responses = [
        loader,
        client.get(script, headers=GZIP),
        client.get(style, headers=GZIP),
        client.get(f"/api/v1/procedures/{procedure.id}/form", params={"lang": "fr"}, headers=GZIP),
    ]
    assert all(r.status_code == 200 for r in responses)
    assert sum(wire_size(r) for r in responses) < FULL_BUDGET


def test_loader_is_one_strict_dependency_free_iife(client: httpx.Client) -> None:
    text = client.get("/widget.js").text
    assert re.match(r'^[!(]function\(\)\{"use strict";', text)
    assert "__RETOUR_VERSION__" not in text
    for forbidden in ("import ", "require(", "document.cookie", "eval("):
        assert forbidden not in text


def test_loader_is_revalidated_and_dialog_cached_for_good(client: httpx.Client) -> None:
    loader = client.get("/widget.js")
    assert loader.headers["content-type"] == "text/javascript; charset=utf-8"
    assert loader.headers["cache-control"] == "public, max-age=300"
    assert loader.headers["cross-origin-resource-policy"] == "cross-origin"
    etag = loader.headers["etag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    script, style = dialog_urls(loader.text)
    for url, media_type in ((script, "text/javascript"), (style, "text/css")):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in response.headers["vary"]


def test_an_old_version_gets_todays_files_but_only_briefly(client: httpx.Client) -> None:
    response = client.get("/widget/0123456789ab/dialog.js")
    assert response.status_code == 200
    assert response.content == widget_assets().dialog_js.body
    assert response.headers["cache-control"] == "public, max-age=300"


def test_unknown_widget_paths_are_404(client: httpx.Client) -> None:
    for path in ("/widget/v1/other.js", "/widget/static/nothing.css", "/widget.jsx"):
        assert client.get(path).status_code == 404


def test_no_asset_sets_a_cookie(client: httpx.Client) -> None:
    loader = client.get("/widget.js")
    script, style = dialog_urls(loader.text)
    for response in (loader, client.get(script), client.get(style)):
        assert "set-cookie" not in response.headers


def test_dialog_has_no_inline_styles_that_a_strict_csp_blocks(client: httpx.Client) -> None:
    loader = client.get("/widget.js")
    script, _ = dialog_urls(loader.text)
    text = client.get(script).text
    # No style attributes or <style> elements: CSS comes only from the linked dialog.css.
    for forbidden in (".style.", "'style'", '"style"', "cssText", "innerHTML", "insertRule"):
        assert forbidden not in text
