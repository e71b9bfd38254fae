"""Argon2 password hashes for staff accounts."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A hash to verify against when the account does not exist, so that the time a
# sign-in takes does not reveal which emails have accounts.
DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-constant-time")

# The password hash of an account that signs in only through OpenID Connect: no password
# verifies against it (argon2 refuses it as a hash).
NO_PASSWORD = "!openid-connect"
