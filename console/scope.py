"""Roles and per-ministry isolation: who may see and do what in the console.

Interface (every console module uses these; never compare roles by hand elsewhere):

- `CurrentUser`: the signed-in person (`id`, `email`, `role`, `ministry_id`, `ministry_name`),
  what `console.auth.require_user(request)` returns.
- `visible_ministry_ids(user) -> set[int] | None`: the ministries whose data `user` may read;
  `None` means all of them (DINUM `admin`). Filter queries with `scoped(query, column, user)`.
- `ensure_same_ministry(user, ministry_id)`: raise `HTTPException(404)` when the object belongs
  to a ministry `user` cannot see. Other ministries' data answers 404, never 403, so that its
  existence is not revealed.
- Capabilities: `can_triage` (admin, ministry_admin, agent), `can_manage_procedures` and
  `can_manage_users` (admin, ministry_admin), `is_admin`. A `viewer` only reads.
  `require(capability, user)` raises `HTTPException(403)` when the capability is missing.
- `assignable_roles(user)`: the roles `user` may give to an account they create.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

from starlette.exceptions import HTTPException

ADMIN = "admin"
MINISTRY_ADMIN = "ministry_admin"
AGENT = "agent"
VIEWER = "viewer"
# How roles read in the interface (French source text, translated through the catalogs).
ROLE_LABELS: Final = {
    ADMIN: "Administrateur DINUM",
    MINISTRY_ADMIN: "Administrateur du ministère",
    AGENT: "Agent",
    VIEWER: "Lecteur",
}

Q = TypeVar("Q")


class HasRole(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def ministry_id(self) -> int | None: ...


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in staff member, as loaded once per request."""

    id: int
    email: str
    role: str
    ministry_id: int | None
    ministry_name: str | None = None
    session_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def is_admin(user: HasRole) -> bool:
    return user.role == ADMIN


def can_triage(user: HasRole) -> bool:
    return user.role in (ADMIN, MINISTRY_ADMIN, AGENT)


def can_manage_procedures(user: HasRole) -> bool:
    return user.role in (ADMIN, MINISTRY_ADMIN)


def can_manage_users(user: HasRole) -> bool:
    return user.role in (ADMIN, MINISTRY_ADMIN)


def require(capability: Callable[[HasRole], bool], user: HasRole) -> None:
    """403 when the user's role lacks the capability (their own ministry's page, wrong role)."""
    if not capability(user):
        raise HTTPException(403)


def visible_ministry_ids(user: HasRole) -> set[int] | None:
    """None: every ministry (admin). Otherwise the user's own ministry (empty if none)."""
    if user.role == ADMIN:
        return None
    return {user.ministry_id} if user.ministry_id is not None else set()


def can_see_ministry(user: HasRole, ministry_id: int | None) -> bool:
    visible = visible_ministry_ids(user)
    return visible is None or (ministry_id is not None and ministry_id in visible)


def ensure_same_ministry(user: HasRole, ministry_id: int | None) -> None:
    """404 for another ministry's object: its existence must not leak."""
    if not can_see_ministry(user, ministry_id):
        raise HTTPException(404)


def scoped(query: Q, column: Any, user: HasRole) -> Q:
    """`select(...)` narrowed to the ministries the user may see (unchanged for admins)."""
    visible = visible_ministry_ids(user)
    if visible is None:
        return query
    return query.where(column.in_(sorted(visible)))  # type: ignore[attr-defined]


def assignable_roles(user: HasRole) -> tuple[str, ...]:
    """Roles an account manager may give: a ministry admin can never create an admin."""
    if user.role == ADMIN:
        return (ADMIN, MINISTRY_ADMIN, AGENT, VIEWER)
    if user.role == MINISTRY_ADMIN:
        return (MINISTRY_ADMIN, AGENT, VIEWER)
    return ()
