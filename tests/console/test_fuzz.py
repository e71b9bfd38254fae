"""Fuzzing the console: any route, any field, any value, signed in as each role — never a 5xx.

Hypothesis draws a route of the app (as tests/console/test_roles.py discovers them), fills
its path with ids that exist, ids of another ministry, numbers out of every range and junk,
and sends fields named as the console's own forms and links name them (read from the
templates and the code, so a new form is fuzzed without a change here), with values chosen
to break parsers: huge and negative numbers, digits `int()` refuses, NUL characters, long
text. POSTs carry a valid CSRF token, so they reach the handlers. The client raises what the
app raises, so a 500 fails the test with its traceback.

`RETOUR_FUZZ_EXAMPLES=2000` runs a longer search than the suite's (60 requests a role).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from retour.receipts import new_receipt
from tests.factories import make_feedback, make_procedure, make_user

ROOT = Path(__file__).resolve().parents[2] / "console"
# Field and query names the console uses: form controls in templates, reads in the code.
FIELD_NAMES = sorted(
    {
        *re.findall(r'name="([A-Za-z_]+)"', " ".join(p.read_text() for p in ROOT.rglob("*.html"))),
        *re.findall(
            r'(?:query_params|params|form)\.get(?:list)?\("([a-z_]+)"',
            " ".join(p.read_text() for p in ROOT.glob("*.py")),
        ),
    }
    - {"csrf_token", "viewport"}
)
NASTY = (
    "", " ", "0", "1", "-1", "2147483647", "2147483648", "9223372036854775807",
    "9223372036854775808", "99999999999999999999999", "9" * 5000, "1e9", "0x10", "²", "٣",
    "１２", "1.5", "\x00", "a\x00b", "<script>alert(1)</script>", "../../etc/passwd", "%00",
    "20240101T000000.000000_1", "20240101T000000.000000_99999999999999999999", "2024-02-30",
    "9999-12-31", "new", "spam", "resolved", "assign", "acknowledge", "admin", "agent", "on",
    "x" * 3000, "é" * 100, "\u202e", "\ud7ff", "https://example.fr", "javascript:alert(1)",
)  # fmt: skip
value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)


def routes_of(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                # Signing out would end the fuzzing client's session for the examples after.
                if (method, route.path) != ("POST", "/console/logout"):
                    found.append((method, route.path))
    return found


@pytest.fixture
def world(session: Any, ministry: Any, other_ministry: Any) -> dict[str, list[str]]:
    """What the path parameters may be: real objects of both ministries, and junk."""
    ids: dict[str, list[str]] = {"id": [], "bigid": [], "procedure_id": [], "receipt": []}
    for where in (ministry, other_ministry):
        procedure = make_procedure(session, ministry_id=where.id)
        feedback = make_feedback(session, procedure=procedure, receipt=new_receipt())
        user = make_user(session, role="agent", ministry=where)
        ids["id"] += [str(user.id), str(where.id)]
        ids["bigid"].append(str(feedback.id))
        ids["procedure_id"].append(procedure.id)
        ids["receipt"].append(feedback.receipt or "")
    return ids


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str]], world: dict[str, list[str]]) -> Any:
    method, path = draw(st.sampled_from(routes))

    def fill(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2) or ""
        known = world.get(kind.lstrip(":") or name, [])
        choice = draw(st.one_of(st.sampled_from(known), value) if known else value)
        return quote(choice, safe="") or "x"

    url = re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", fill, path)
    fields = draw(st.dictionaries(st.sampled_from(FIELD_NAMES), value, max_size=6))
    return method, url, fields


@pytest.mark.parametrize("who", ("anonymous", "admin", "ministry_admin", "agent", "viewer"))
def test_no_request_gets_a_server_error(client_for, console_app, world, who):
    client = client_for(None if who == "anonymous" else who)
    token = client.csrf_token
    routes = routes_of(console_app)

    @settings(
        max_examples=int(os.environ.get("RETOUR_FUZZ_EXAMPLES", "60")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(requests(routes, world))
    def send(request: tuple[str, str, dict[str, str]]) -> None:
        method, url, fields = request
        if method == "GET":
            response = client.get(url, params=fields)
        else:
            response = client.post(url, data={**fields, "csrf_token": token})
        assert response.status_code < 500, (method, url, fields, response.status_code)

    send()
