"""API keys of the staff API: made, checked and revoked here; the console pages and the API
call these functions.

A key is `jfr_` followed by 43 URL-safe characters (256 random bits). It is shown once; the
database keeps its SHA-256 only. A fast hash is right here, unlike for passwords: a key
this random cannot be guessed from its hash, and every API request checks one.

- `create_key(session, *, ministry_id, name, can_write, actor) -> (ApiKey, plain_key)`
- `revoke_key(session, *, key, actor)`: at once, for good.
- `authenticate(session, plain, *, now) -> ApiKey | None`: the live key, its `last_used_at`
  moved on (at most once a minute: not a write per request).
- `KeyActor.of(key)`: who the key acts as for `retour.triage` — its creator's account id
  (notes and answers need an author), the role `agent` (read-write) or `viewer`, the key's
  ministry, and the label `API : <name>` that the audit trail records beside the author.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Final, Protocol

from sqlmodel import Session, select

from retour.models import ApiKey, AuditEvent, utcnow

PREFIX: Final = "jfr_"
NAME_MAX_LENGTH: Final = 100
TOUCH_EVERY: Final = dt.timedelta(minutes=1)
# A presented key longer than this is not one of ours: refused before hashing.
PLAIN_MAX_LENGTH: Final = 200


class ApiKeyError(ValueError):
    """A refused change; `code` names it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Actor(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


def _audit(session: Session, actor: Actor, key: ApiKey, action: str) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_label=actor.email[:60],
            ministry_id=key.ministry_id,
            entity="api_key",
            entity_id=str(key.id),
            action=action,
            detail=json.dumps(
                {"name": key.name, "prefix": key.prefix, "can_write": key.can_write},
                ensure_ascii=False,
            ),
        )
    )


def create_key(
    session: Session, *, ministry_id: int, name: str, can_write: bool, actor: Actor
) -> tuple[ApiKey, str]:
    name = " ".join(name.split())
    if not name:
        raise ApiKeyError("empty_name")
    if len(name) > NAME_MAX_LENGTH:
        raise ApiKeyError("name_too_long")
    plain = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        ministry_id=ministry_id,
        name=name,
        prefix=plain[:12],
        key_hash=hash_key(plain),
        can_write=can_write,
        created_by_id=actor.id,
    )
    session.add(key)
    session.flush()
    _audit(session, actor, key, "create")
    return key, plain


def revoke_key(session: Session, *, key: ApiKey, actor: Actor) -> None:
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    session.add(key)
    _audit(session, actor, key, "revoke")


def authenticate(session: Session, plain: str, *, now: dt.datetime | None = None) -> ApiKey | None:
    if not plain.startswith(PREFIX) or len(plain) > PLAIN_MAX_LENGTH:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(plain))).first()
    if key is None or key.revoked_at is not None:
        return None
    now = now or utcnow()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now
        session.add(key)
    return key


@dataclass(frozen=True)
class KeyActor:
    """An API key acting on submissions, in the shape `retour.triage.Actor` asks for."""

    id: int
    role: str
    ministry_id: int
    audit_label: str
    key_id: int

    @property
    def email(self) -> str:
        return self.audit_label

    @classmethod
    def of(cls, key: ApiKey) -> KeyActor:
        assert key.id is not None
        return cls(
            id=key.created_by_id,
            role="agent" if key.can_write else "viewer",
            ministry_id=key.ministry_id,
            audit_label=f"API : {key.name}"[:60],
            key_id=key.id,
        )
