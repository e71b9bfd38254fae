"""Nothing a client sends gets a 5xx: schemathesis over the OpenAPI description, and
hypothesis fuzzing of the submission body around a valid one (so that fuzzed values reach
validation, the token check and the writer, not only the first refusal)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from ingest.openapi import SPEC
from retour.models import Procedure

SCHEMA = schemathesis.openapi.from_dict(SPEC)
FUZZ = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = [
    "procedure_id",
    "token",
    "client_id",
    "satisfaction",
    "kind",
    "comment",
    "contact_email",
    "page_url",
    "locale",
    "website",
]


def test_openapi_is_published_and_valid(client: httpx.Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(SPEC))
    schemathesis.openapi.from_dict(response.json()).validate()  # raises on an invalid document
    operations = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert operations == {
        ("/healthz", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/procedures/{procedure_id}/form", "get"),
        ("/api/v1/feedback", "post"),
        ("/api/v1/impressions", "post"),
    }


@SCHEMA.parametrize()
@FUZZ
def test_schemathesis_finds_no_server_error(case: Any, client: httpx.Client) -> None:
    response = case.call(base_url=str(client.base_url))
    case.validate_response(response, checks=[not_a_server_error])


@given(
    overrides=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    content_type=st.sampled_from(["application/json", "text/plain;charset=utf-8"]),
)
@FUZZ
def test_fuzzed_submissions_never_5xx(
    client: httpx.Client,
    procedure: Procedure,
    token: str,
    overrides: dict[str, Any],
    content_type: str,
) -> None:
    body = {
        "procedure_id": procedure.id,
        "token": token,
        "client_id": "0b5c8f0e-2f0c-4a3e-9a57-5b2b9d1f9e11",
        "satisfaction": 2,
        **overrides,
    }
    response = client.post(
        "/api/v1/feedback", content=json.dumps(body), headers={"Content-Type": content_type}
    )
    assert response.status_code in (202, 400, 403, 404, 413, 422), response.text
    if response.status_code != 202:
        assert set(response.json()["error"]) == {"code", "message", "field"}


@given(raw=st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode))
@FUZZ
def test_fuzzed_bytes_never_5xx(client: httpx.Client, raw: bytes) -> None:
    for path in ("/api/v1/feedback", "/api/v1/impressions"):
        response = client.post(path, content=raw, headers={"Content-Type": "text/plain"})
        assert response.status_code < 500, response.text


@pytest.mark.parametrize("text", ["\x00", "\u202e", "\ud800", "😀" * 1000, "a\r\nb\tc"])
def test_hostile_comments_never_5xx(client: httpx.Client, submission: Any, text: str) -> None:
    # json.dumps escapes a lone surrogate as "\ud800", as a browser's JSON.stringify does.
    response = client.post(
        "/api/v1/feedback",
        content=json.dumps(submission(comment=text)),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code in (202, 422)
