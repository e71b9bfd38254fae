"""Creating staff accounts: shared by `retour users add` and the console's user pages."""

from __future__ import annotations

import json
import re
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from retour.models import ROLES, AuditEvent, Ministry, StaffUser
from retour.passwords import MIN_PASSWORD_LENGTH, hash_password

# Longer passwords only cost hashing time; a bound keeps a form from being used to burn CPU.
MAX_PASSWORD_LENGTH: Final = 1024
MAX_EMAIL_LENGTH: Final = 254
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "bad_email": ("adresse électronique invalide : {email}", "not a valid email address: {email}"),
    "duplicate": (
        "un compte existe déjà pour {email}",
        "an account already exists for {email}",
    ),
    "bad_role": (
        "rôle inconnu « {role} » : choisissez parmi {roles}",
        "unknown role '{role}': choose one of {roles}",
    ),
    "admin_with_ministry": (
        "un administrateur (DINUM) n'est rattaché à aucun ministère",
        "an admin (DINUM) belongs to no ministry: leave the ministry out",
    ),
    "ministry_required": (
        "le rôle {role} demande un ministère",
        "the role {role} needs a ministry",
    ),
    "unknown_ministry": ("ministère inconnu : {ministry}", "unknown ministry: {ministry}"),
    "short_password": (
        "le mot de passe doit compter au moins {minimum} caractères",
        "the password must be at least {minimum} characters long",
    ),
    "long_password": (
        "le mot de passe ne doit pas dépasser {maximum} caractères",
        "the password must be at most {maximum} characters long",
    ),
}


class AccountError(ValueError):
    """An account cannot be created; `message(locale)` says why in French or English."""

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        self.values = values
        super().__init__(self.message("en"))

    def message(self, locale: str = "en") -> str:
        french, english = MESSAGES[self.code]
        return (english if locale == "en" else french).format(**self.values)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("short_password", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("long_password", maximum=MAX_PASSWORD_LENGTH)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    ministry_id: int | None,
    actor_id: int | None = None,
    actor_label: str = "cli",
    password_hash: str | None = None,
) -> StaffUser:
    """Check, hash and add a staff account; the caller commits. Raises AccountError.

    `password_hash` reuses a hash already made of `password` (the demo gives its accounts
    one password, and argon2 is slow on purpose).
    """
    email = normalise_email(email)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL_RE.match(email):
        raise AccountError("bad_email", email=email)
    if role not in ROLES:
        raise AccountError("bad_role", role=role, roles=", ".join(ROLES))
    if role == "admin" and ministry_id is not None:
        raise AccountError("admin_with_ministry")
    if role != "admin":
        if ministry_id is None:
            raise AccountError("ministry_required", role=role)
        if session.get(Ministry, ministry_id) is None:
            raise AccountError("unknown_ministry", ministry=ministry_id)
    check_password(password)
    if session.exec(select(StaffUser.id).where(StaffUser.email == email)).first() is not None:
        raise AccountError("duplicate", email=email)

    user = StaffUser(
        email=email,
        password_hash=password_hash or hash_password(password),
        role=role,
        ministry_id=ministry_id,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created at the same moment by someone else
        raise AccountError("duplicate", email=email) from exc
    session.add(
        AuditEvent(
            actor_id=actor_id,
            actor_label=actor_label,
            ministry_id=ministry_id,
            entity="staff_user",
            entity_id=str(user.id),
            action="create",
            detail=json.dumps({"email": email, "role": role}),
        )
    )
    return user
