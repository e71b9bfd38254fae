"""Webhooks against a real local HTTP server: events queued in the database, signed
deliveries, retries with backoff that a failing-then-recovering server sees, redelivery.

Time is passed in (`now=`), so a day of retries takes no time; the server is real."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from retour import problems, triage
from retour.models import WebhookAttempt, WebhookDelivery, utcnow
from retour.settings import Settings
from retour.webhook_events import enqueue
from retour.webhook_sender import backoff, claim, redeliver, send_due
from retour.webhooks import (
    WebhookError,
    check_destination,
    check_url,
    register_endpoint,
    signature_header,
    verify,
)
from tests.factories import make_feedback, make_ministry, make_procedure, make_user
from tests.live import free_port


@dataclass
class Receiver:
    """A local HTTP server that answers the statuses it is told, then 200."""

    url: str
    answers: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            state.paths.append(self.path)
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, webhook_allow_private=True, public_url="https://r.fr")


def send(engine: Engine, settings: Settings, now: dt.datetime) -> list[tuple[int, str]]:
    async def run() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(timeout=5) as http:
            return await send_due(engine, settings, http=http, now=now)

    return asyncio.run(run())


@dataclass
class World:
    ministry: Any
    procedure: Any
    manager: Any


@pytest.fixture
def world(session: Session) -> World:
    ministry = make_ministry(session)
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = make_user(session, role="ministry_admin", ministry=ministry)
    return World(ministry, procedure, manager)


def endpoint_for(session: Session, world: World, url: str, **options: Any) -> Any:
    endpoint, secret = register_endpoint(
        session,
        ministry_id=world.ministry.id,
        url=url,
        events=options.pop("events", ("feedback.created",)),
        include_comments=options.pop("include_comments", False),
        actor=world.manager,
        allow_private=True,
    )
    session.commit()
    return endpoint, secret


def start_watching(engine: Engine, session: Session) -> dt.datetime:
    """The first run only sets the watermarks: the past sends nothing."""
    now = utcnow()
    assert enqueue(engine, public_url="https://r.fr", now=now) == 0
    session.rollback()  # the test's session reads (and writes) after that write
    return now


# --- Signatures and addresses ----------------------------------------------------------------


def test_the_signature_covers_the_body_and_the_time() -> None:
    body = b'{"type":"feedback.created"}'
    header = signature_header("whsec_x", body, 1_764_000_000)
    assert header.startswith("t=1764000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("whsec_x", body, header, now=1_764_000_100)
    assert not verify("whsec_x", body + b" ", header, now=1_764_000_100)
    assert not verify("whsec_y", body, header, now=1_764_000_100)
    assert not verify("whsec_x", body, header, now=1_764_000_000 + 301)  # a replay, later
    assert not verify("whsec_x", body, "v1=abc", now=1_764_000_000)


@pytest.mark.parametrize(
    ("url", "allow_private", "code"),
    [
        pytest.param("http://hooks.example.gouv.fr/x", False, "not_https", id="http"),
        pytest.param("ftp://hooks.example.gouv.fr/x", True, "not_https", id="ftp"),
        pytest.param("https://user:pw@hooks.example.gouv.fr/", False, "bad_url", id="userinfo"),
        pytest.param("https:///nohost", False, "bad_url", id="no-host"),
        pytest.param("https://hooks.example.gouv.fr:port/", False, "bad_url", id="bad-port"),
    ],
)
def test_bad_webhook_addresses_are_refused(url: str, allow_private: bool, code: str) -> None:
    with pytest.raises(WebhookError) as caught:
        check_url(url, allow_private=allow_private)
    assert caught.value.code == code


def test_private_addresses_are_refused_unless_allowed() -> None:
    for url in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x"):
        with pytest.raises(WebhookError):
            check_destination(url, allow_private=False)
        check_destination(url, allow_private=True)


# --- Events and deliveries -----------------------------------------------------------------


def test_a_new_submission_is_delivered_signed_without_its_comment(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    endpoint, secret = endpoint_for(session, world, receiver.url)
    now = start_watching(engine, session)
    feedback = make_feedback(
        session,
        procedure=world.procedure,
        contact_email="usager@example.fr",
        received_at=now,
        updated_at=now,
    )
    later = now + dt.timedelta(seconds=20)
    assert enqueue(engine, public_url="https://r.fr", now=later) == 1
    assert enqueue(engine, public_url="https://r.fr", now=later) == 0  # once only
    assert send(engine, hook_settings, later) == [(1, "delivered")]

    headers, body = receiver.received[0]
    assert verify(secret, body, headers["retour-signature"])
    assert headers["retour-event"] == "feedback.created"
    assert headers["content-type"] == "application/json"
    event = json.loads(body)
    assert event["type"] == "feedback.created"
    data = event["data"]["feedback"]
    assert data["id"] == feedback.id and data["procedure_id"] == world.procedure.id
    assert data["console_url"] == f"https://r.fr/console/feedback/{feedback.id}"
    assert "comment" not in data and "usager@example.fr" not in body.decode()
    session.rollback()  # a fresh snapshot: the sender wrote in other connections
    delivery = session.exec(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    session.rollback()  # a fresh snapshot: the sender wrote in other connections
    attempt = session.exec(select(WebhookAttempt)).one()
    assert attempt.status_code == 200 and attempt.duration_ms >= 0
    assert endpoint.id == delivery.endpoint_id


def test_comments_go_only_to_endpoints_allowed_to_receive_them(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    endpoint_for(session, world, receiver.url + "?plain")
    endpoint_for(session, world, receiver.url + "?comments", include_comments=True)
    now = start_watching(engine, session)
    make_feedback(
        session, procedure=world.procedure, comment="Trop lent.", received_at=now, updated_at=now
    )
    enqueue(engine, public_url="https://r.fr", now=now + dt.timedelta(seconds=20))
    send(engine, hook_settings, now + dt.timedelta(seconds=20))
    bodies = {json.loads(body)["data"]["feedback"].get("comment") for _, body in receiver.received}
    assert bodies == {None, "Trop lent."}


def test_triage_changes_become_events_for_their_ministry_only(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    events = ("feedback.status_changed", "answer.published")
    endpoint_for(session, world, receiver.url, events=events)
    other = World(make_ministry(session), None, None)
    other.manager = make_user(session, role="ministry_admin", ministry=other.ministry)
    endpoint_for(session, other, receiver.url + "?other", events=events)
    feedback = make_feedback(session, procedure=world.procedure)
    now = start_watching(engine, session)
    agent = make_user(session, role="agent", ministry=world.ministry)
    triage.change_status(session, feedback=feedback, actor=agent, to="acknowledged")
    triage.save_answer(session, feedback=feedback, actor=agent, body="Merci, c’est corrigé.")
    session.commit()
    later = utcnow() + dt.timedelta(seconds=20)
    assert enqueue(engine, public_url="https://r.fr", now=later) == 2
    send(engine, hook_settings, later)
    received = [json.loads(body) for _, body in receiver.received]
    assert sorted(e["type"] for e in received) == ["answer.published", "feedback.status_changed"]
    status = next(e for e in received if e["type"] == "feedback.status_changed")["data"]
    assert (status["from"], status["to"]) == ("new", "acknowledged")
    answer = next(e for e in received if e["type"] == "answer.published")["data"]
    assert answer["answer"]["body"] == "Merci, c’est corrigé."
    assert now is not None


def test_a_failing_server_is_retried_with_backoff_until_it_recovers(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    endpoint_for(session, world, receiver.url)
    now = start_watching(engine, session)
    make_feedback(session, procedure=world.procedure, received_at=now, updated_at=now)
    t = now + dt.timedelta(seconds=20)
    enqueue(engine, public_url="https://r.fr", now=t)
    receiver.answers = [500, 503]

    assert send(engine, hook_settings, t) == [(1, "pending")]
    assert send(engine, hook_settings, t + dt.timedelta(seconds=29)) == []  # not due yet
    t += backoff(1)
    assert backoff(1) == dt.timedelta(seconds=30)
    assert send(engine, hook_settings, t) == [(1, "pending")]
    assert send(engine, hook_settings, t + backoff(2) - dt.timedelta(seconds=1)) == []
    t += backoff(2)
    assert send(engine, hook_settings, t) == [(1, "delivered")]

    session.rollback()  # a fresh snapshot: the sender wrote in other connections

    session.rollback()

    attempts = session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert [a.error for a in attempts] == ["HTTP 500", "HTTP 503", ""]
    # Every try carried a fresh, valid signature of the same body.
    assert len({body for _, body in receiver.received}) == 1


def test_after_a_day_of_failures_it_gives_up_and_can_be_redelivered(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    endpoint_for(session, world, receiver.url)
    now = start_watching(engine, session)
    make_feedback(session, procedure=world.procedure, received_at=now, updated_at=now)
    t = now + dt.timedelta(seconds=20)
    enqueue(engine, public_url="https://r.fr", now=t)
    receiver.answers = [500] * 100
    status, tries = "pending", 0
    while status == "pending":
        ((_, status),) = send(engine, hook_settings, t)
        tries += 1
        t += backoff(tries)
    assert status == "failed"
    assert 8 <= tries <= 12  # 30 s, 2, 8, 32 min, 2 h 8, then every 4 h, for a day
    session.rollback()  # a fresh snapshot: the sender wrote in other connections
    delivery = session.exec(select(WebhookDelivery)).one()
    assert delivery.attempts == tries
    assert send(engine, hook_settings, t + dt.timedelta(days=2)) == []

    receiver.answers = []
    later = t + dt.timedelta(days=3)
    redeliver(session, delivery=delivery, now=later)
    session.commit()
    assert send(engine, hook_settings, later) == [(delivery.id, "delivered")]


def test_the_queue_survives_a_restart_and_one_process_claims_a_delivery(
    hook_settings: Settings, session: Session, world: World, receiver: Receiver
) -> None:
    from retour.db import make_engine

    first = make_engine(hook_settings)
    endpoint_for(session, world, receiver.url)
    now = start_watching(first, session)
    make_feedback(session, procedure=world.procedure, received_at=now, updated_at=now)
    t = now + dt.timedelta(seconds=20)
    enqueue(first, public_url="https://r.fr", now=t)
    first.dispose()  # the process stops before sending

    second, third = make_engine(hook_settings), make_engine(hook_settings)
    try:
        claimed = claim(second, t)
        assert len(claimed) == 1 and claim(third, t) == []  # another process does not take it
        # A claim that was never finished (the process died) is taken again later.
        assert len(claim(third, t + dt.timedelta(minutes=3))) == 1
        assert send(second, hook_settings, t + dt.timedelta(minutes=10)) == [(1, "delivered")]
    finally:
        second.dispose()
        third.dispose()


def test_an_unreachable_endpoint_is_logged_and_retried(
    engine: Engine, session: Session, world: World, hook_settings: Settings
) -> None:
    endpoint_for(session, world, f"http://127.0.0.1:{free_port()}/gone")
    now = start_watching(engine, session)
    make_feedback(session, procedure=world.procedure, received_at=now, updated_at=now)
    t = now + dt.timedelta(seconds=20)
    enqueue(engine, public_url="https://r.fr", now=t)
    assert send(engine, hook_settings, t) == [(1, "pending")]
    session.rollback()  # a fresh snapshot: the sender wrote in other connections
    delivery = session.exec(select(WebhookDelivery)).one()
    assert delivery.last_status_code is None and "ConnectError" in delivery.last_error


def test_an_endpoint_created_later_hears_nothing_of_the_past(
    engine: Engine, session: Session, world: World, receiver: Receiver
) -> None:
    first, _secret = endpoint_for(session, world, receiver.url + "?first")
    first.created_at = utcnow() - dt.timedelta(hours=1)
    session.add(first)
    session.commit()
    now = start_watching(engine, session)
    make_feedback(
        session,
        procedure=world.procedure,
        received_at=now - dt.timedelta(minutes=5),
        updated_at=now - dt.timedelta(minutes=5),
    )
    endpoint_for(session, world, receiver.url + "?second")
    enqueue(engine, public_url="https://r.fr", now=now + dt.timedelta(seconds=20))
    session.rollback()  # a fresh snapshot: the sender wrote in other connections
    assert session.exec(select(WebhookDelivery.endpoint_id)).all() == [first.id]


def test_the_console_background_task_queues_and_sends_by_itself(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    from console.background import public_tasks
    from retour.models import StatsState

    endpoint, secret = endpoint_for(session, world, receiver.url)
    endpoint.created_at = utcnow() - dt.timedelta(hours=1)
    session.add(endpoint)
    session.commit()

    async def run() -> None:
        async with public_tasks(engine, hook_settings, webhook_every=0.05):
            for _ in range(200):  # the first pass sets the watermark
                await asyncio.sleep(0.05)
                session.rollback()
                if session.get(StatsState, 3) is not None:
                    break
            earlier = utcnow() - dt.timedelta(minutes=1)  # settled already
            make_feedback(session, procedure=world.procedure, received_at=earlier)
            for _ in range(200):
                await asyncio.sleep(0.05)
                if receiver.received:
                    return

    asyncio.run(run())
    headers, body = receiver.received[0]
    assert verify(secret, body, headers["retour-signature"])


def test_finished_deliveries_are_forgotten_after_30_days(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    from retour.webhook_sender import purge_old

    endpoint_for(session, world, receiver.url)
    now = start_watching(engine, session)
    for _ in range(2):
        make_feedback(session, procedure=world.procedure, received_at=now, updated_at=now)
    t = now + dt.timedelta(seconds=20)
    enqueue(engine, public_url="https://r.fr", now=t)
    receiver.answers = [200, 500]
    send(engine, hook_settings, t)  # one delivered, one pending
    assert purge_old(engine, now=t + dt.timedelta(days=29)) == 0
    assert purge_old(engine, now=t + dt.timedelta(days=31)) == 1
    session.rollback()
    assert [d.status for d in session.exec(select(WebhookDelivery)).all()] == ["pending"]
    assert len(session.exec(select(WebhookAttempt)).all()) == 1


def test_problems_become_events_with_their_description_only_where_comments_are_allowed(
    engine: Engine, session: Session, world: World, receiver: Receiver, hook_settings: Settings
) -> None:
    events = ("problem.created", "problem.status_changed", "problem.updated")
    endpoint_for(session, world, receiver.url + "?plain", events=events)
    endpoint_for(session, world, receiver.url + "?comments", events=events, include_comments=True)
    now = start_watching(engine, session)
    agent = make_user(session, role="agent", ministry=world.ministry)
    feedback = make_feedback(session, procedure=world.procedure)
    problem = problems.create_problem(
        session,
        actor=agent,
        ministry_id=world.ministry.id,
        title="L’étape 3 échoue",
        procedure_ids=[world.procedure.id],
        description="Vu dans 12 retours.",
    )
    problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=[feedback.id])
    problems.change_problem_status(
        session, problem=problem, actor=agent, to="fixed", public_answer="Corrigé le 2 décembre."
    )
    session.commit()
    later = utcnow() + dt.timedelta(seconds=20)
    assert enqueue(engine, public_url="https://r.fr", now=later) == 6
    send(engine, hook_settings, later)
    received = [(p, json.loads(body)) for p, (_, body) in zip(receiver.paths, receiver.received)]
    # Deliveries need not arrive in the order things happened: look them up by type.
    plain = {e["type"]: e["data"] for path, e in received if path.endswith("?plain")}
    assert sorted(plain) == ["problem.created", "problem.status_changed", "problem.updated"]
    created, linked = plain["problem.created"], plain["problem.updated"]
    fixed = plain["problem.status_changed"]
    assert created["problem"]["title"] == "L’étape 3 échoue"
    assert created["problem"]["procedure_ids"] == [world.procedure.id]
    assert "description" not in created["problem"]
    assert (linked["change"], linked["count"]) == ("link", 1)
    assert (fixed["from"], fixed["to"]) == ("open", "fixed")
    assert fixed["problem"]["public_answer"] == "Corrigé le 2 décembre."
    with_comments = [event for path, event in received if path.endswith("?comments")]
    assert with_comments[0]["data"]["problem"]["description"] == "Vu dans 12 retours."
    assert now is not None
