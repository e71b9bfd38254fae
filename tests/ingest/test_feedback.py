"""POST /api/v1/feedback: every status and error of the contract, on both backends."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from retour.models import Procedure
from retour.redaction import clean_comment, mask
from retour.signing import FORM_TOKEN_SALT, FormTokens, serializer
from tests.conftest import TEST_SECRET
from tests.factories import make_procedure
from tests.ingest.conftest import ORIGIN, stored_feedback

Build = Callable[..., dict[str, Any]]
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")


def post(client: httpx.Client, body: Any, content_type: str = "application/json") -> httpx.Response:
    return client.post(
        "/api/v1/feedback", content=json.dumps(body), headers={"Content-Type": content_type}
    )


def assert_error(response: httpx.Response, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["message"]
    assert error["code"] == code
    assert error["field"] == field


# --- Accepted ----------------------------------------------------------------------------


def test_accepted_submission_is_stored_once_committed(
    client: httpx.Client, submission: Build, engine: Engine, procedure: Procedure
) -> None:
    body = submission(
        comment="Le bouton ne marche pas, écrivez-moi : jean.dupont@example.org",
        contact_email="jean.dupont@example.org",
        page_url=f"{ORIGIN}/demarche/etape-3?dossier=123456&email=a@b.fr#haut",
        locale="en",
    )
    response = post(client, body)
    assert response.status_code == 202
    answer = response.json()
    assert set(answer) == {"id", "receipt"}
    assert RECEIPT.match(answer["receipt"])
    assert "set-cookie" not in response.headers

    [row] = stored_feedback(engine)
    assert row.id == answer["id"] and row.receipt == answer["receipt"]
    assert row.client_id == body["client_id"]
    assert row.procedure_id == procedure.id and row.ministry_id == procedure.ministry_id
    assert row.satisfaction == 1 and row.kind == "malfunction"
    masked = mask(clean_comment(body["comment"]))
    assert row.comment == masked.text
    assert row.pii_categories == " ".join(sorted(masked.categories))
    assert row.contact_email == "jean.dupont@example.org"
    # Query strings and fragments carry personal data: never stored.
    assert row.page_url == f"{ORIGIN}/demarche/etape-3"
    assert row.page_origin == ORIGIN
    assert row.origin_registered is True
    assert row.honeypot is False and row.status == "new"
    assert row.locale == "en"
    assert "127.0.0.1" not in " ".join(str(value) for value in row)


def test_json_sent_as_text_plain_is_accepted(client: httpx.Client, submission: Build) -> None:
    response = post(client, submission(), "text/plain;charset=UTF-8")
    assert response.status_code == 202


def test_minimal_submission(client: httpx.Client, submission: Build, engine: Engine) -> None:
    body = {key: submission()[key] for key in ("procedure_id", "token", "client_id")}
    response = post(client, {**body, "satisfaction": 3})
    assert response.status_code == 202
    [row] = stored_feedback(engine)
    assert (row.kind, row.comment, row.contact_email, row.page_url, row.locale) == (
        None,
        "",
        None,
        None,
        "fr",
    )
    assert row.origin_registered is None  # no page: the origin is unknown, not unregistered


def test_repeated_client_id_answers_the_first_submission(
    client: httpx.Client, submission: Build, engine: Engine
) -> None:
    body = submission()
    first = post(client, body)
    again = post(client, {**body, "satisfaction": 3, "comment": "autre chose"})
    # The same UUID written in capitals is the same client_id.
    shouted = post(client, {**body, "client_id": body["client_id"].upper()})
    assert first.status_code == again.status_code == shouted.status_code == 202
    assert first.json() == again.json() == shouted.json()
    [row] = stored_feedback(engine)
    assert row.satisfaction == 1


def test_honeypot_is_accepted_silently_and_kept_out_of_the_inbox(
    client: httpx.Client, submission: Build, engine: Engine
) -> None:
    response = post(client, submission(website="http://spam.example"))
    assert response.status_code == 202
    assert RECEIPT.match(response.json()["receipt"])
    [row] = stored_feedback(engine)
    assert row.honeypot is True and row.status == "spam"


@pytest.mark.parametrize(
    ("page_url", "registered"),
    [
        pytest.param(f"{ORIGIN}/page", True, id="registered"),
        pytest.param("HTTPS://WWW.Example.GOUV.fr:443/page", True, id="same-origin-other-spelling"),
        pytest.param("https://www.example.gouv.fr:8443/page", False, id="other-port"),
        pytest.param("http://www.example.gouv.fr/page", False, id="other-scheme"),
        pytest.param("https://copie.example.com/page", False, id="unregistered"),
    ],
)
def test_unregistered_origin_is_stored_and_flagged(
    client: httpx.Client, submission: Build, engine: Engine, page_url: str, registered: bool
) -> None:
    assert post(client, submission(page_url=page_url)).status_code == 202
    [row] = stored_feedback(engine)
    assert row.origin_registered is registered


# --- Refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html", ""],
)
def test_other_content_types_are_415(
    client: httpx.Client, submission: Build, content_type: str
) -> None:
    assert_error(post(client, submission(), content_type), 415, "unsupported_media_type", None)


def test_body_over_16_kib_is_413(client: httpx.Client, submission: Build) -> None:
    body = submission(comment="x" * 17_000)
    assert_error(post(client, body), 413, "body_too_large", None)


def test_streamed_body_over_16_kib_is_413_without_content_length(
    client: httpx.Client, submission: Build
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"comment": "'
        for _ in range(64):
            yield b"y" * 1024  # chunked: the server must count as it reads

    response = client.post(
        "/api/v1/feedback", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large", None)


def test_streamed_body_in_many_chunks_is_accepted_whole(
    client: httpx.Client, submission: Build, engine: Engine
) -> None:
    body = submission(comment="Réponse reçue en plusieurs morceaux. " * 40)
    raw = json.dumps(body).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), 100):
            yield raw[start : start + 100]  # each chunk its own ASGI message

    response = client.post(
        "/api/v1/feedback", content=chunks(), headers={"Content-Type": "text/plain"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 202, response.text
    assert [row.comment for row in stored_feedback(engine)] == [body["comment"]]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"text"', id="string"),
        pytest.param(b'{"comment": "\xff\xfe"}', id="not-utf8"),
        pytest.param(b"[" * 10_000, id="deep-nesting"),
        pytest.param(b'{"a": NaN', id="nan"),
    ],
)
def test_malformed_bodies_are_400(client: httpx.Client, raw: bytes) -> None:
    response = client.post(
        "/api/v1/feedback", content=raw, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed", None)


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        pytest.param({"satisfaction": None}, "satisfaction", "required", id="satisfaction-missing"),
        pytest.param({"satisfaction": 4}, "satisfaction", "invalid", id="satisfaction-4"),
        pytest.param({"satisfaction": "2"}, "satisfaction", "invalid", id="satisfaction-string"),
        pytest.param({"satisfaction": True}, "satisfaction", "invalid", id="satisfaction-bool"),
        pytest.param({"kind": "rant"}, "kind", "invalid", id="kind-unknown"),
        pytest.param({"kind": 3}, "kind", "invalid", id="kind-number"),
        pytest.param({"client_id": None}, "client_id", "required", id="client-id-missing"),
        pytest.param({"client_id": "1234"}, "client_id", "invalid", id="client-id-not-uuid"),
        pytest.param({"client_id": 1234}, "client_id", "invalid", id="client-id-number"),
        pytest.param({"procedure_id": None}, "procedure_id", "required", id="procedure-missing"),
        pytest.param({"procedure_id": "../etc"}, "procedure_id", "invalid", id="procedure-bad"),
        pytest.param({"token": None}, "token", "required", id="token-missing"),
        pytest.param({"token": 12}, "token", "invalid", id="token-number"),
        pytest.param({"contact_email": "jean"}, "contact_email", "invalid", id="email-no-at"),
        pytest.param({"contact_email": "a@b"}, "contact_email", "invalid", id="email-no-domain"),
        pytest.param({"contact_email": ["a@b.fr"]}, "contact_email", "invalid", id="email-list"),
        pytest.param({"page_url": "javascript:alert(1)"}, "page_url", "invalid", id="url-js"),
        pytest.param({"page_url": "https://"}, "page_url", "invalid", id="url-no-host"),
        pytest.param({"page_url": "https://a.fr:99999/"}, "page_url", "invalid", id="url-port"),
        pytest.param({"locale": "de"}, "locale", "invalid", id="locale-de"),
        pytest.param({"comment": 12}, "comment", "invalid", id="comment-number"),
        pytest.param({"comment": "\ud800"}, "comment", "invalid", id="comment-lone-surrogate"),
        pytest.param({"comment": "é" * 2001}, "comment", "too_long", id="comment-too-long"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(
    client: httpx.Client, submission: Build, overrides: dict[str, Any], field: str, code: str
) -> None:
    body = {key: value for key, value in submission(**overrides).items() if value is not None}
    assert_error(post(client, body), 422, code, field)


def test_comment_is_never_echoed_nor_logged(
    client: httpx.Client, submission: Build, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Mon numéro fiscal est 1234567890123 " * 60
    caplog.set_level(logging.DEBUG)
    for body in (submission(comment=secret), submission(comment=secret[:100], locale="xx")):
        response = post(client, body)
        assert response.status_code == 422
        assert "fiscal" not in response.text
    assert post(client, submission(comment=secret[:100])).status_code == 202
    assert "fiscal" not in caplog.text


def test_unknown_procedure_is_404(client: httpx.Client, submission: Build) -> None:
    response = post(client, submission(procedure_id="demarche-inexistante"))
    assert_error(response, 404, "unknown_procedure", "procedure_id")


def test_archived_procedure_is_stored_for_its_ministry(
    client: httpx.Client, session: Session, settings: Any, submission: Build, engine: Engine
) -> None:
    """Never lose a citizen's words: a page still carrying an archived button is heard."""
    archived = make_procedure(session, active=False)
    token = FormTokens(settings.secret_key).issue(archived.id)
    response = post(client, submission(procedure_id=archived.id, token=token))
    assert response.status_code == 202
    [row] = stored_feedback(engine)
    assert row.procedure_id == archived.id
    assert row.ministry_id == archived.ministry_id
    assert row.receipt == response.json()["receipt"]


def test_no_page_address_is_an_unknown_origin_not_an_unregistered_one(
    client: httpx.Client, submission: Build, engine: Engine
) -> None:
    assert post(client, submission(page_url=None)).status_code == 202
    [row] = stored_feedback(engine)
    assert (row.page_origin, row.origin_registered) == (None, None)


def expired_token(procedure_id: str) -> str:
    """A real token, signed three hours ago."""

    class ThreeHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 3600

    signer = URLSafeTimedSerializer(TEST_SECRET, salt=FORM_TOKEN_SALT, signer=ThreeHoursAgo)
    return signer.dumps(procedure_id)


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        pytest.param(lambda pid: "forged." + "A" * 30, "token_forged", id="forged"),
        pytest.param(
            lambda pid: FormTokens("another-secret-key-of-sufficient-length!!").issue(pid),
            "token_forged",
            id="other-key",
        ),
        pytest.param(
            lambda pid: serializer(TEST_SECRET, "session").dumps(pid),
            "token_forged",
            id="other-purpose",
        ),
        pytest.param(
            lambda pid: FormTokens(TEST_SECRET).issue("autre-demarche"),
            "token_other-procedure",
            id="other-procedure",
        ),
        pytest.param(expired_token, "token_expired", id="expired"),
    ],
)
def test_refused_tokens_are_403(
    client: httpx.Client,
    submission: Build,
    procedure: Procedure,
    engine: Engine,
    make_token: Callable[[str], str],
    code: str,
) -> None:
    response = post(client, submission(token=make_token(procedure.id)))
    assert_error(response, 403, code, "token")
    assert stored_feedback(engine) == []


# --- HTTP around it ----------------------------------------------------------------------


def test_cors_allows_any_origin_without_credentials(client: httpx.Client) -> None:
    preflight = client.options(
        "/api/v1/feedback",
        headers={
            "Origin": "https://www.impots.gouv.fr",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers


def test_simple_cross_origin_post_gets_cors_headers(
    client: httpx.Client, submission: Build
) -> None:
    response = client.post(
        "/api/v1/feedback",
        content=json.dumps(submission()),
        headers={"Content-Type": "text/plain", "Origin": "https://www.impots.gouv.fr"},
    )
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == "*"


def test_unknown_route_and_wrong_method_answer_json(client: httpx.Client) -> None:
    assert_error(client.get("/api/v1/nothing"), 404, "not_found", None)
    assert_error(client.get("/api/v1/feedback"), 405, "method_not_allowed", None)


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_client_id_is_canonical(client: httpx.Client, submission: Build, engine: Engine) -> None:
    raw = uuid.uuid4()
    assert post(client, submission(client_id="{" + raw.hex.upper() + "}")).status_code == 202
    [row] = stored_feedback(engine)
    assert row.client_id == str(raw)
