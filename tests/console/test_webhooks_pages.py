"""Webhooks in the console: registered by account managers, one ministry each, redeliverable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from sqlmodel import Session, select

from retour.models import Ministry, WebhookDelivery, WebhookEndpoint, utcnow
from retour.settings import Settings
from retour.webhooks import register_endpoint
from tests.factories import make_user

SECRET_RE = re.compile(r'id="secret-webhook" type="text" readonly value="(whsec_[^"]+)"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhook_allow_private=False)


def endpoint_with_delivery(session: Session, ministry: Ministry, status: str = "failed") -> Any:
    owner = make_user(session, role="ministry_admin", ministry=ministry)
    endpoint, _secret = register_endpoint(
        session,
        ministry_id=ministry.id,
        url="https://outil.example.gouv.fr/hook",
        events=["feedback.created"],
        include_comments=False,
        actor=owner,
        allow_private=False,
    )
    now = utcnow()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event="feedback.created",
        event_key="feedback:1",
        body="{}",
        status=status,
        attempts=9,
        give_up_at=now - dt.timedelta(hours=1),
        last_status_code=500,
        last_duration_ms=42,
        last_error="HTTP 500",
    )
    session.add(delivery)
    session.commit()
    return endpoint, delivery


def test_a_manager_registers_an_https_endpoint_and_sees_its_secret_once(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    manager = client_for("ministry_admin")
    response = manager.submit(
        "/console/webhooks",
        {
            "url": "https://outil.example.gouv.fr/hook",
            "events": ["feedback.created", "answer.published"],
            "include_comments": "1",
        },
    )
    assert response.status_code == 201
    secret = SECRET_RE.search(response.text).group(1)
    endpoint = session.exec(select(WebhookEndpoint)).one()
    assert endpoint.secret == secret and endpoint.ministry_id == ministry.id
    assert endpoint.events == "feedback.created answer.published" and endpoint.include_comments
    assert secret not in manager.get("/console/webhooks").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        pytest.param(
            {"url": "http://outil.example.gouv.fr/", "events": "feedback.created"},
            "https://",
            id="http",
        ),
        pytest.param({"url": "nonsense", "events": "feedback.created"}, "https://", id="no-url"),
        pytest.param({"url": "https://outil.example.gouv.fr/"}, "au moins un", id="no-event"),
    ],
)
def test_bad_endpoints_are_refused_with_a_message(
    form: dict[str, str], message: str, client_for: Any, session: Session
) -> None:
    response = client_for("ministry_admin").submit("/console/webhooks", form)
    assert response.status_code == 400
    assert message in response.text
    assert session.exec(select(WebhookEndpoint)).first() is None


def test_deliveries_are_shown_and_can_be_redelivered(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    endpoint, delivery = endpoint_with_delivery(session, ministry)
    manager = client_for("ministry_admin")
    page = manager.get(f"/console/webhooks/{endpoint.id}")
    assert "abandonné" in page.text and "42 ms" in page.text
    response = manager.submit(f"/console/webhooks/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 303
    session.refresh(delivery)
    assert delivery.status == "pending" and delivery.give_up_at > utcnow()


def test_another_ministry_sees_nothing_and_agents_cannot_manage(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    endpoint, delivery = endpoint_with_delivery(session, ministry)
    stranger = client_for("ministry_admin", ministry=other_ministry)
    assert "outil.example.gouv.fr" not in stranger.get("/console/webhooks").text
    assert stranger.get(f"/console/webhooks/{endpoint.id}").status_code == 404
    assert stranger.submit(f"/console/webhooks/{endpoint.id}/delete").status_code == 404
    redeliver = f"/console/webhooks/deliveries/{delivery.id}/redeliver"
    assert stranger.submit(redeliver).status_code == 404
    assert client_for("agent").get("/console/webhooks").status_code == 403
    session.refresh(endpoint)
    assert endpoint.active
    client_for("ministry_admin").submit(f"/console/webhooks/{endpoint.id}/delete")
    session.refresh(endpoint)
    assert not endpoint.active


def test_registering_the_first_endpoint_starts_the_events_watermark(
    client_for: Any, session: Session
) -> None:
    from retour.models import StatsState

    client_for("ministry_admin").submit(
        "/console/webhooks",
        {"url": "https://outil.example.gouv.fr/h", "events": "feedback.created"},
    )
    state = session.get(StatsState, 3)
    assert state is not None and state.refreshed_at is not None
