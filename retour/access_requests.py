"""Access requests: a civil servant signed in through ProConnect who has no account.

Interface (the console's sign-in and its people pages use it):

- `normalise_domain(text) -> str` and `register_domain(session, *, ministry_id, domain, actor)`
  / `remove_domain(...)`: the email domains a ministry vouches for (one ministry each).
- `request_access(session, *, email, name) -> AccessRequest | None`: the request of someone
  whose domain a ministry registered (made once, kept as it is on later sign-ins); None when
  no ministry registered the domain: then nobody may grant an account through this route.
- `approve(session, *, request, role, actor) -> StaffUser` and `refuse(...)`: the ministry's
  decision; approving creates the account (no password: it signs in through ProConnect).

An access request never signs anyone in: only an account does, and only an admin makes one.
Every decision is an `AuditEvent`. Functions flush, never commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Final, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from retour.accounts import AccountError, create_user, normalise_email
from retour.models import AccessRequest, AuditEvent, MinistryDomain, StaffUser, utcnow
from retour.passwords import NO_PASSWORD

# Roles an approval may give: an access request never makes a DINUM admin.
APPROVABLE_ROLES: Final = ("ministry_admin", "agent", "viewer")
_DOMAIN_RE: Final = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class AccessError(ValueError):
    """A refused change; `code` names it for messages."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Actor(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...


def normalise_domain(text: str) -> str:
    """`Interieur.GOUV.fr`, `@interieur.gouv.fr` → `interieur.gouv.fr`; AccessError if not one."""
    domain = text.strip().lower().lstrip("@").rstrip(".")
    if not _DOMAIN_RE.match(domain):
        raise AccessError("bad_domain")
    return domain


def domain_of(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


def _audit(
    session: Session,
    actor: Actor | None,
    *,
    ministry_id: int,
    entity: str,
    entity_id: str,
    action: str,
    **detail: object,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            actor_label=actor.email[:60] if actor else "proconnect",
            ministry_id=ministry_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )
    )


# --- Domains -----------------------------------------------------------------------------


def domains_of(session: Session, *, ministry_id: int) -> Sequence[MinistryDomain]:
    statement = select(MinistryDomain).where(MinistryDomain.ministry_id == ministry_id)
    return session.exec(statement.order_by(col(MinistryDomain.domain))).all()


def register_domain(
    session: Session, *, ministry_id: int, domain: str, actor: Actor
) -> MinistryDomain:
    domain = normalise_domain(domain)
    existing = session.get(MinistryDomain, domain)
    if existing is not None:
        raise AccessError("domain_mine" if existing.ministry_id == ministry_id else "domain_taken")
    row = MinistryDomain(domain=domain, ministry_id=ministry_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # registered at the same moment by someone else
        raise AccessError("domain_taken") from exc
    _audit(
        session,
        actor,
        ministry_id=ministry_id,
        entity="ministry_domain",
        entity_id=domain,
        action="create",
    )
    return row


def remove_domain(session: Session, *, ministry_id: int, domain: str, actor: Actor) -> None:
    row = session.get(MinistryDomain, domain)
    if row is None or row.ministry_id != ministry_id:
        raise AccessError("not_found")
    session.delete(row)
    _audit(
        session,
        actor,
        ministry_id=ministry_id,
        entity="ministry_domain",
        entity_id=domain,
        action="delete",
    )


# --- Requests ----------------------------------------------------------------------------


def request_access(session: Session, *, email: str, name: str) -> AccessRequest | None:
    email = normalise_email(email)
    existing = session.exec(select(AccessRequest).where(AccessRequest.email == email)).first()
    if existing is not None:
        return existing
    registered = session.get(MinistryDomain, domain_of(email))
    if registered is None:
        return None
    request = AccessRequest(email=email, name=name[:200], ministry_id=registered.ministry_id)
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # the same person signing in twice at once: one request
        session.rollback()
        return session.exec(select(AccessRequest).where(AccessRequest.email == email)).first()
    _audit(
        session,
        None,
        ministry_id=registered.ministry_id,
        entity="access_request",
        entity_id=str(request.id),
        action="create",
        email=email,
    )
    return request


def pending(session: Session, *, ministry_ids: Sequence[int] | None) -> Sequence[AccessRequest]:
    """Pending requests of these ministries (None: every ministry), oldest first."""
    statement = select(AccessRequest).where(AccessRequest.status == "pending")
    if ministry_ids is not None:
        statement = statement.where(col(AccessRequest.ministry_id).in_(list(ministry_ids)))
    return session.exec(statement.order_by(col(AccessRequest.requested_at))).all()


def _decide(request: AccessRequest, actor: Actor, status: str, role: str | None) -> None:
    if request.status != "pending":
        raise AccessError("already_decided")
    request.status = status
    request.role = role
    request.decided_at = utcnow()
    request.decided_by_id = actor.id


def approve(session: Session, *, request: AccessRequest, role: str, actor: Actor) -> StaffUser:
    if role not in APPROVABLE_ROLES:
        raise AccessError("bad_role")
    _decide(request, actor, "approved", role)
    try:
        user = create_user(
            session,
            email=request.email,
            # Checked by create_user like any password, never stored: the hash says "none".
            password="-" * 16,
            password_hash=NO_PASSWORD,
            role=role,
            ministry_id=request.ministry_id,
            actor_id=actor.id,
            actor_label=actor.email[:60],
        )
    except AccountError as exc:
        raise AccessError("duplicate" if exc.code == "duplicate" else "bad_request") from exc
    session.add(request)
    _audit(
        session,
        actor,
        ministry_id=request.ministry_id,
        entity="access_request",
        entity_id=str(request.id),
        action="approve",
        email=request.email,
        role=role,
    )
    return user


def refuse(session: Session, *, request: AccessRequest, actor: Actor) -> None:
    _decide(request, actor, "refused", None)
    session.add(request)
    _audit(
        session,
        actor,
        ministry_id=request.ministry_id,
        entity="access_request",
        entity_id=str(request.id),
        action="refuse",
        email=request.email,
    )
