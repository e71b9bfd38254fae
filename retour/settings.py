"""Settings, read once from the environment and an optional `.env` file."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limits import parse as parse_limit
from sqlalchemy.engine import URL, make_url
from starlette.config import Config, Environ

log = logging.getLogger("retour")

DEFAULT_DATABASE_URL = "sqlite:///./retour.db"
SECRET_FILE_NAME = "retour.secret"


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one sentence naming it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    redis_url: str | None = None
    # Prefix of the rate limiter's Redis keys, so several deployments (or tests) share one Redis.
    redis_prefix: str = "retour"
    public_url: str = "http://127.0.0.1:8000"
    rate_limit: str = "20/minute"
    # A cap per procedure, so that one flooded procedure cannot drown the others.
    procedure_rate_limit: str = "600/minute"
    public_min_count: int = 100
    # Addresses of reverse proxies whose X-Forwarded-For we believe.
    trusted_proxies: tuple[str, ...] = ()
    contact_retention_days: int = 183
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    mail_from: str = "Je fais un retour <ne-pas-repondre@retour.numerique.gouv.fr>"
    # Requests allowed per API key on the staff API (`/api/v1/staff/`).
    staff_api_rate_limit: str = "600/minute"
    # Webhooks may go to http:// and private or loopback addresses (development, tests only).
    webhook_allow_private: bool = False
    # ProConnect (or any OpenID Connect provider) for staff sign-in; unset: passwords only.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_scopes: str = "openid email given_name usual_name"
    password_login: bool = True

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def sqlalchemy_url(self) -> URL:
        return sqlalchemy_url(self.database_url)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        env = Environ(dict(os.environ if environ is None else environ))
        path = Path(env_file) if env_file is not None else None
        config = Config(path if path is not None and path.is_file() else None, environ=env)

        database_url = _check_database_url(
            config("RETOUR_DATABASE_URL", default=DEFAULT_DATABASE_URL)
        )
        settings = cls(
            database_url=database_url,
            secret_key=config("RETOUR_SECRET_KEY", default="") or "",
            redis_url=_check_redis_url(config("RETOUR_REDIS_URL", default=None)),
            redis_prefix=config("RETOUR_REDIS_PREFIX", default="retour") or "retour",
            public_url=_check_public_url(
                config("RETOUR_PUBLIC_URL", default="http://127.0.0.1:8000")
            ),
            rate_limit=_check_limit(
                "RETOUR_RATE_LIMIT", config("RETOUR_RATE_LIMIT", default="20/minute")
            ),
            procedure_rate_limit=_check_limit(
                "RETOUR_PROCEDURE_RATE_LIMIT",
                config("RETOUR_PROCEDURE_RATE_LIMIT", default="600/minute"),
            ),
            public_min_count=_check_int(
                "RETOUR_PUBLIC_MIN_COUNT", config("RETOUR_PUBLIC_MIN_COUNT", default="100"), 1
            ),
            staff_api_rate_limit=_check_limit(
                "RETOUR_STAFF_API_RATE_LIMIT",
                config("RETOUR_STAFF_API_RATE_LIMIT", default="600/minute"),
            ),
            webhook_allow_private=_check_bool(
                "RETOUR_WEBHOOK_ALLOW_PRIVATE",
                config("RETOUR_WEBHOOK_ALLOW_PRIVATE", default="false"),
            ),
            trusted_proxies=_check_proxies(config("RETOUR_TRUSTED_PROXIES", default="")),
            contact_retention_days=_check_int(
                "RETOUR_CONTACT_RETENTION_DAYS",
                config("RETOUR_CONTACT_RETENTION_DAYS", default="183"),
                1,
            ),
            smtp_host=config("RETOUR_SMTP_HOST", default=None) or None,
            smtp_port=_check_int("RETOUR_SMTP_PORT", config("RETOUR_SMTP_PORT", default="25"), 1),
            smtp_user=config("RETOUR_SMTP_USER", default=None) or None,
            smtp_password=config("RETOUR_SMTP_PASSWORD", default=None) or None,
            smtp_starttls=_check_bool(
                "RETOUR_SMTP_STARTTLS", config("RETOUR_SMTP_STARTTLS", default="false")
            ),
            mail_from=config("RETOUR_MAIL_FROM", default=cls.mail_from),
            **_oidc(config),
        )
        if not settings.secret_key:
            settings = _with_generated_secret(settings)
        elif len(settings.secret_key) < 32:
            raise SettingsError("RETOUR_SECRET_KEY must be at least 32 characters long.")
        return settings


def is_configured(
    name: str, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> bool:
    """Whether `name` is set in the environment or in the `.env` file (as `from_environ` reads)."""
    if name in (os.environ if environ is None else environ):
        return True
    path = Path(env_file) if env_file is not None else None
    return path is not None and path.is_file() and name in Config(path).file_values


def sqlalchemy_url(database_url: str) -> URL:
    url = make_url(database_url)
    # Plain postgresql:// URLs would pick psycopg2, which we do not ship.
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _with_generated_secret(settings: Settings) -> Settings:
    db_path = sqlite_path(settings.database_url)
    if db_path is None:
        raise SettingsError(
            "RETOUR_SECRET_KEY must be set when RETOUR_DATABASE_URL is not a SQLite file."
        )
    secret_file = db_path.resolve().parent / SECRET_FILE_NAME
    if secret_file.is_file():
        secret = secret_file.read_text().strip()
    else:
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = secret_file.read_text().strip()
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secret + "\n")
            log.warning(
                "RETOUR_SECRET_KEY is not set: generated one and kept it in %s. "
                "Set RETOUR_SECRET_KEY in production.",
                secret_file,
            )
    return Settings(**{**settings.__dict__, "secret_key": secret})


def _check_database_url(value: str) -> str:
    try:
        url = sqlalchemy_url(value)
    except Exception as exc:
        raise SettingsError(f"RETOUR_DATABASE_URL is not a database URL: {value!r}.") from exc
    if not (url.drivername.startswith("sqlite") or url.drivername.startswith("postgresql")):
        raise SettingsError("RETOUR_DATABASE_URL must be a sqlite:/// or postgresql:// URL.")
    return value


def _check_redis_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"RETOUR_REDIS_URL must start with redis:// or rediss://: {value!r}.")
    return value


def _check_public_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"RETOUR_PUBLIC_URL must be an http(s) URL: {value!r}.")
    return value.rstrip("/")


def _check_limit(name: str, value: str) -> str:
    try:
        parse_limit(value)
    except ValueError as exc:
        raise SettingsError(f"{name} is not a rate limit such as '20/minute': {value!r}.") from exc
    return value


def _check_int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number: {value!r}.") from exc
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}: {value!r}.")
    return number


def _check_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false: {value!r}.")


def _oidc(config: Config) -> dict[str, Any]:
    """OpenID Connect (ProConnect): all three of issuer, client id and secret, or none."""
    names = ("RETOUR_OIDC_ISSUER", "RETOUR_OIDC_CLIENT_ID", "RETOUR_OIDC_CLIENT_SECRET")
    issuer, client_id, secret = (config(name, default="") or "" for name in names)
    given = [name for name, value in zip(names, (issuer, client_id, secret), strict=True) if value]
    if given and len(given) < len(names):
        missing = ", ".join(name for name in names if name not in given)
        raise SettingsError(f"{missing} must be set too when {given[0]} is (OpenID Connect).")
    if issuer and not issuer.startswith(("https://", "http://")):
        raise SettingsError(f"RETOUR_OIDC_ISSUER must be an http(s) URL: {issuer!r}.")
    scopes = " ".join((config("RETOUR_OIDC_SCOPES", default="") or Settings.oidc_scopes).split())
    if "openid" not in scopes.split():
        raise SettingsError(f"RETOUR_OIDC_SCOPES must include openid: {scopes!r}.")
    password_login = _check_bool(
        "RETOUR_PASSWORD_LOGIN", config("RETOUR_PASSWORD_LOGIN", default="true")
    )
    if not password_login and not issuer:
        raise SettingsError(
            "RETOUR_PASSWORD_LOGIN=false needs RETOUR_OIDC_ISSUER: nobody could sign in."
        )
    return {
        "oidc_issuer": issuer or None,
        "oidc_client_id": client_id or None,
        "oidc_client_secret": secret or None,
        "oidc_scopes": scopes,
        "password_login": password_login,
    }


def _check_proxies(value: str) -> tuple[str, ...]:
    proxies = tuple(part.strip() for part in value.split(",") if part.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise SettingsError(
                f"RETOUR_TRUSTED_PROXIES must list IP addresses or networks: {proxy!r}."
            ) from exc
    return proxies
