"""page_location's fast path for plain URLs gives what its general (urlsplit) path gives."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.submissions import _PLAIN_PAGE_URL, _general_page_location, page_location

# Pieces of URLs, common and awkward: hosts with dots and dashes, paths with every visible
# ASCII character, queries and fragments holding spaces, newlines, non-ASCII and "@".
schemes = st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript"])
hosts = st.text(alphabet="abcz09.-_ AÉ", min_size=0, max_size=12)
ports = st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":"])
users = st.sampled_from(["", "jean@", "a:b@"])
paths = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
tails = st.text(max_size=20)
separators = st.sampled_from(["", "?", "#"])


@st.composite
def page_urls(draw: st.DrawFn) -> str:
    path = draw(paths)
    return (
        f"{draw(schemes)}://{draw(users)}{draw(hosts)}{draw(ports)}"
        f"{'/' if draw(st.booleans()) else ''}{path}{draw(separators)}{draw(tails)}"
    )


@settings(max_examples=3000)
@given(page_urls())
@example("https://www.example.gouv.fr/demarche/etape-3?dossier=123456&email=a@b.fr#haut")
@example("https://a.fr")
@example("https://a.fr?x=1")
@example("https://a.fr//x")
@example("https://a.fr/x\\y(1)")
@example("https://a.fr/x?\n\t")
@example("https://" + "a" * 1992)
@example("https://a.fr/" + "p" * 1990)
def test_fast_path_agrees_with_urlsplit(url: str) -> None:
    assert page_location(url) == _general_page_location(url)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        pytest.param("https://www.example.gouv.fr/demarche?x=1", True, id="widget"),
        pytest.param("https://a.fr", True, id="no-path"),
        pytest.param("HTTPS://A.FR/", False, id="upper-case"),
        pytest.param("https://a.fr:8443/", False, id="port"),
        pytest.param("https://jean@a.fr/", False, id="user"),
        pytest.param("https://a.fr/étape", False, id="non-ascii-path"),
        pytest.param(" https://a.fr/", False, id="leading-space"),
        pytest.param("https://a.fr/a b", False, id="space-in-path"),
    ],
)
def test_which_urls_take_the_fast_path(url: str, plain: bool) -> None:
    assert (_PLAIN_PAGE_URL.fullmatch(url) is not None) is plain
    assert page_location(url) == _general_page_location(url)
