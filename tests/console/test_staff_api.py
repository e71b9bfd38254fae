"""The staff API: keys made in the console, the same rules as the console, fuzzed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from sqlmodel import Session, select

from console.app import create_app
from console.staff_openapi import SPEC
from retour.api_keys import create_key
from retour.models import ApiKey, AuditEvent, Ministry, PublicAnswer, StaffUser
from retour.settings import Settings
from tests.factories import make_feedback, make_procedure, make_user
from tests.live import serve_in_thread

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SCHEMA = schemathesis.openapi.from_dict(SPEC)
FUZZ = hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
KEY_RE = re.compile(r'id="nouvelle-cle" type="text" readonly value="(jfr_[^"]+)"')


def new_key(session: Session, ministry: Ministry, *, can_write: bool = True) -> str:
    creator = make_user(session, role="ministry_admin", ministry=ministry)
    _key, plain = create_key(
        session, ministry_id=ministry.id, name="GRC", can_write=can_write, actor=creator
    )
    session.commit()
    return plain


@pytest.fixture
def api(console_app: Any) -> Iterator[TestClient]:
    with TestClient(console_app, base_url="http://testserver") as client:
        yield client


def auth(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


# --- Keys in the console -------------------------------------------------------------------


def test_a_ministry_admin_makes_a_key_shown_once_and_stored_hashed(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    manager = client_for("ministry_admin")
    response = manager.submit("/console/api-keys", {"name": "GRC du service", "access": "write"})
    assert response.status_code == 201
    plain = KEY_RE.search(response.text).group(1)
    assert len(plain) == 47
    key = session.exec(select(ApiKey)).one()
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert (key.ministry_id, key.can_write, key.prefix) == (ministry.id, True, plain[:12])
    assert plain not in manager.get("/console/api-keys").text
    assert "GRC du service" in manager.get("/console/api-keys").text
    assert session.exec(select(AuditEvent).where(AuditEvent.entity == "api_key")).one()


def test_keys_are_for_account_managers_of_their_ministry_only(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    assert client_for("agent").get("/console/api-keys").status_code == 403
    assert client_for("viewer").submit("/console/api-keys", {"name": "x"}).status_code == 403
    new_key(session, ministry)
    key = session.exec(select(ApiKey)).one()
    stranger = client_for("ministry_admin", ministry=other_ministry)
    assert key.prefix not in stranger.get("/console/api-keys").text
    assert stranger.submit(f"/console/api-keys/{key.id}/revoke").status_code == 404
    session.refresh(key)
    assert key.revoked_at is None


def test_a_key_needs_a_name(client_for: Any) -> None:
    response = client_for("ministry_admin").submit("/console/api-keys", {"name": "  "})
    assert response.status_code == 400
    assert "Donnez un nom" in response.text


# --- Authentication ------------------------------------------------------------------------


def test_no_wrong_or_revoked_key_answers_401(
    api: TestClient, client_for: Any, session: Session, ministry: Ministry
) -> None:
    response = api.get("/api/v1/staff/feedback")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthenticated"
    assert api.get("/api/v1/staff/feedback", headers=auth("jfr_nope")).status_code == 401
    plain = new_key(session, ministry)
    assert api.get("/api/v1/staff/feedback", headers=auth(plain)).status_code == 200
    key = session.exec(select(ApiKey)).one()
    assert key.last_used_at is not None  # shown in the console
    client_for("ministry_admin").submit(f"/console/api-keys/{key.id}/revoke")
    response = api.get("/api/v1/staff/feedback", headers=auth(plain))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_key"


def test_the_key_is_rate_limited(settings: Settings, session: Session, ministry: Ministry) -> None:
    limited = dataclasses.replace(settings, staff_api_rate_limit="3/minute")
    plain = new_key(session, ministry)
    with TestClient(create_app(limited), base_url="http://testserver") as client:
        codes = [
            client.get("/api/v1/staff/feedback", headers=auth(plain)).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        last = client.get("/api/v1/staff/feedback", headers=auth(plain))
        assert int(last.headers["retry-after"]) >= 1


def test_the_composed_server_sends_the_staff_api_to_the_console(settings: Settings) -> None:
    from retour.compose import create_app as compose

    with TestClient(compose(settings), base_url="http://testserver") as client:
        assert client.get("/api/v1/staff/feedback").status_code == 401
        assert client.get("/api/v1/openapi.json").json()["info"]["title"].endswith("ingest")


# --- Reading -------------------------------------------------------------------------------


def test_listing_pages_through_the_ministry_only(
    api: TestClient, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    procedure = make_procedure(session, ministry_id=ministry.id)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    mine = {
        make_feedback(
            session,
            procedure=procedure,
            received_at=start + dt.timedelta(hours=i),
            status="acknowledged" if i % 2 else "new",
        ).id
        for i in range(5)
    }
    make_feedback(session, procedure=make_procedure(session, ministry_id=other_ministry.id))
    plain = new_key(session, ministry, can_write=False)
    seen: list[int] = []
    after = None
    for _ in range(5):
        params = {"limit": "2", **({"after": after} if after else {})}
        page = api.get("/api/v1/staff/feedback", params=params, headers=auth(plain)).json()
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(mine, reverse=True)
    filtered = api.get(
        "/api/v1/staff/feedback", params={"status": "acknowledged"}, headers=auth(plain)
    ).json()
    assert {item["status"] for item in filtered["items"]} == {"acknowledged"}
    assert len(filtered["items"]) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"status": "lost"}, "status", id="status"),
        pytest.param({"rating": "7"}, "rating", id="rating"),
        pytest.param({"from": "yesterday"}, "from", id="date"),
        pytest.param({"limit": "0"}, "limit", id="limit-zero"),
        pytest.param({"limit": "1000"}, "limit", id="limit-big"),
        pytest.param({"after": "nonsense"}, "after", id="cursor"),
    ],
)
def test_bad_parameters_answer_422_naming_them(
    params: dict[str, str], field: str, api: TestClient, session: Session, ministry: Ministry
) -> None:
    response = api.get(
        "/api/v1/staff/feedback", params=params, headers=auth(new_key(session, ministry))
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_one_submission_reads_as_in_the_console_and_another_ministrys_is_404(
    api: TestClient, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    feedback = make_feedback(
        session,
        procedure=make_procedure(session, ministry_id=ministry.id),
        contact_email="usager@example.fr",
    )
    theirs = make_feedback(
        session, procedure=make_procedure(session, ministry_id=other_ministry.id)
    )
    plain = new_key(session, ministry, can_write=False)
    body = api.get(f"/api/v1/staff/feedback/{feedback.id}", headers=auth(plain)).json()
    assert body["id"] == feedback.id and body["comment"] == feedback.comment
    assert body["wants_answer"] is True and "usager@example.fr" not in str(body)
    assert body["allowed_statuses"][0] == "acknowledged"
    missing = api.get(f"/api/v1/staff/feedback/{theirs.id}", headers=auth(plain))
    assert missing.status_code == 404
    assert api.get("/api/v1/staff/feedback/999999", headers=auth(plain)).status_code == 404


# --- Changing ------------------------------------------------------------------------------


def test_a_read_only_key_changes_nothing(
    api: TestClient, session: Session, ministry: Ministry
) -> None:
    feedback = make_feedback(session, procedure=make_procedure(session, ministry_id=ministry.id))
    plain = new_key(session, ministry, can_write=False)
    response = api.post(
        f"/api/v1/staff/feedback/{feedback.id}/status",
        json={"status": "acknowledged"},
        headers=auth(plain),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only"
    session.refresh(feedback)
    assert feedback.status == "new"


def test_a_write_key_triages_through_the_same_rules_and_audit_trail(
    api: TestClient, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    feedback = make_feedback(session, procedure=make_procedure(session, ministry_id=ministry.id))
    theirs = make_feedback(
        session, procedure=make_procedure(session, ministry_id=other_ministry.id)
    )
    plain = new_key(session, ministry)
    base = f"/api/v1/staff/feedback/{feedback.id}"

    changed = api.post(base + "/status", json={"status": "in_progress"}, headers=auth(plain))
    assert changed.status_code == 200 and changed.json()["status"] == "in_progress"
    refused = api.post(base + "/status", json={"status": "new"}, headers=auth(plain))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "transition_refused"
    unknown = api.post(base + "/status", json={"status": "lost"}, headers=auth(plain))
    assert unknown.status_code == 422

    note = api.post(
        base + "/notes", json={"body": "Rappelé au 06 12 34 56 78."}, headers=auth(plain)
    )
    assert note.status_code == 201
    assert "06 12" not in note.json()["body"] and "[téléphone masqué]" in note.json()["body"]
    empty = api.post(base + "/notes", json={"body": "  "}, headers=auth(plain))
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_note"

    answer = api.put(
        base + "/answer", json={"body": "Corrigé depuis le 3 mars."}, headers=auth(plain)
    )
    assert answer.status_code == 200
    assert session.exec(select(PublicAnswer.body)).one() == "Corrigé depuis le 3 mars."

    history = api.get(base, headers=auth(plain)).json()["history"]
    assert [entry["action"] for entry in history] == ["status", "note", "answer_publish"]
    assert {entry["via"] for entry in history} == {"API : GRC"}
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "feedback")).all()
    creator = session.exec(select(StaffUser).where(StaffUser.role == "ministry_admin")).one()
    assert {(e.actor_id, e.actor_label) for e in events} == {(creator.id, "API : GRC")}

    # Another ministry's submission: 404, and untouched, whatever the key may do.
    other = api.post(
        f"/api/v1/staff/feedback/{theirs.id}/status", json={"status": "spam"}, headers=auth(plain)
    )
    assert other.status_code == 404
    session.refresh(theirs)
    assert theirs.status == "new"


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        pytest.param(b"{", {"content-type": "application/json"}, 400, id="malformed"),
        pytest.param(b"[1]", {"content-type": "application/json"}, 400, id="not-an-object"),
        pytest.param(b'{"status": 1}', {"content-type": "application/json"}, 422, id="not-text"),
        pytest.param(
            b"status=spam", {"content-type": "application/x-www-form-urlencoded"}, 415, id="form"
        ),
        pytest.param(
            b'{"status": "' + b"x" * 70_000 + b'"}',
            {"content-type": "application/json"},
            413,
            id="too-large",
        ),
    ],
)
def test_bodies_the_api_cannot_read_are_refused_clearly(
    content: bytes,
    headers: dict[str, str],
    status: int,
    api: TestClient,
    session: Session,
    ministry: Ministry,
) -> None:
    feedback = make_feedback(session, procedure=make_procedure(session, ministry_id=ministry.id))
    response = api.post(
        f"/api/v1/staff/feedback/{feedback.id}/status",
        content=content,
        headers={**headers, **auth(new_key(session, ministry))},
    )
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "field"}


# --- Described and fuzzed ------------------------------------------------------------------


def test_openapi_is_published_and_valid(api: TestClient) -> None:
    response = api.get("/api/v1/staff/openapi.json")
    assert response.status_code == 200
    schemathesis.openapi.from_dict(response.json()).validate()
    routes = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert ("/api/v1/staff/feedback/{feedback_id}/answer", "put") in routes


@pytest.fixture
def live_api(settings: Settings, session: Session, ministry: Ministry) -> Iterator[tuple[str, str]]:
    procedure = make_procedure(session, ministry_id=ministry.id)
    for _ in range(3):
        make_feedback(session, procedure=procedure)
    plain = new_key(session, ministry)
    roomy = dataclasses.replace(settings, staff_api_rate_limit="100000/minute")
    with serve_in_thread(create_app(roomy)) as server:
        yield server.url, plain


@SCHEMA.parametrize()
@FUZZ
def test_schemathesis_finds_no_server_error(case: Any, live_api: tuple[str, str]) -> None:
    url, plain = live_api
    response = case.call(base_url=url, headers=auth(plain))
    case.validate_response(response, checks=[not_a_server_error])
    assert not isinstance(response, httpx.Response) or response.status_code < 500
