"""Webhook endpoints and their signatures; the events are made in `retour.webhook_events` and
sent by `retour.webhook_sender`.

- `register_endpoint(session, *, ministry_id, url, events, include_comments, actor,
  allow_private) -> (WebhookEndpoint, secret)`; `remove_endpoint(...)` deactivates it (its
  delivery log stays). The URL must be `https://` and name a public address; with
  `RETOUR_WEBHOOK_ALLOW_PRIVATE=true` (development, tests) `http://` and private, loopback
  addresses are accepted too. `check_destination` repeats the address check before every
  delivery, since a name may point elsewhere by then.
- `signature_header(secret, body, timestamp) -> "t=<unix>,v1=<hex>"`: HMAC-SHA256 of
  `"<t>." + body` keyed with the endpoint's secret; `verify(secret, body, header, now)`
  is what a receiver does (docs/api.md shows it in Python and in shell): the signature
  must match and `t` be within `TOLERANCE` seconds, so that a captured request cannot be
  replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterable
from typing import Final, Protocol
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from retour.models import (
    WEBHOOK_EVENTS,
    AuditEvent,
    Feedback,
    StatsState,
    WebhookEndpoint,
    utcnow,
)

SIGNATURE_HEADER: Final = "Retour-Signature"
TOLERANCE: Final = 300
URL_MAX_LENGTH: Final = 2000


class WebhookError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Actor(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...


# --- Where deliveries may go ---------------------------------------------------------------


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL as it will be used, or WebhookError("bad_url" | "not_https")."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError as exc:
        raise WebhookError("bad_url") from exc
    if len(url) > URL_MAX_LENGTH or not parts.hostname or parts.username or parts.password:
        raise WebhookError("bad_url")
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise WebhookError("not_https")
    if not url.isprintable() or " " in url:
        raise WebhookError("bad_url")
    return url


def check_destination(url: str, *, allow_private: bool) -> None:
    """WebhookError("private_address") when the host resolves to a non-public address."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise WebhookError("unresolvable") from exc
    if not infos or not all(_public(str(info[4][0])) for info in infos):
        raise WebhookError("private_address")


# --- Endpoints -------------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, endpoint: WebhookEndpoint, action: str) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_label=actor.email[:60],
            ministry_id=endpoint.ministry_id,
            entity="webhook_endpoint",
            entity_id=str(endpoint.id),
            action=action,
            detail=json.dumps(
                {
                    "url": endpoint.url,
                    "events": endpoint.events,
                    "include_comments": endpoint.include_comments,
                },
                ensure_ascii=False,
            ),
        )
    )


def register_endpoint(
    session: Session,
    *,
    ministry_id: int,
    url: str,
    events: Iterable[str],
    include_comments: bool,
    actor: Actor,
    allow_private: bool,
) -> tuple[WebhookEndpoint, str]:
    url = check_url(url, allow_private=allow_private)
    chosen = [event for event in WEBHOOK_EVENTS if event in set(events)]
    if not chosen:
        raise WebhookError("no_event")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        ministry_id=ministry_id,
        url=url,
        secret=secret,
        events=" ".join(chosen),
        include_comments=include_comments,
        created_by_id=actor.id,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, actor, endpoint, "create")
    _start_watermark(session)
    return endpoint, secret


def _start_watermark(session: Session) -> None:
    """The events' watermark starts with the first endpoint, in its transaction, so that the
    background task never has to write one (a write every pass would contend on SQLite)."""
    from retour.webhook_events import WEBHOOK_ROW

    if session.get(StatsState, WEBHOOK_ROW) is not None:
        return
    top_feedback = session.exec(select(func.max(Feedback.id))).one()
    top_audit = session.exec(select(func.max(AuditEvent.id))).one()
    try:
        with session.begin_nested():
            session.add(
                StatsState(
                    id=WEBHOOK_ROW,
                    last_feedback_id=top_feedback or 0,
                    last_audit_id=top_audit or 0,
                    refreshed_at=utcnow(),
                )
            )
    except IntegrityError:
        pass  # another process started it at the same moment: either is right


def remove_endpoint(session: Session, *, endpoint: WebhookEndpoint, actor: Actor) -> None:
    if not endpoint.active:
        return
    endpoint.active = False
    session.add(endpoint)
    _audit(session, actor, endpoint, "delete")


# --- Signatures ----------------------------------------------------------------------------


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> bool:
    """Whether a received request is ours and fresh (what a receiver runs)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE:
        return False
    return hmac.compare_digest(fields.get("v1", ""), _mac(secret, body, timestamp))
