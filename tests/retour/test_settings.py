"""Settings: every variable read, every bad value stopped with one sentence naming it."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from retour.settings import SECRET_FILE_NAME, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-secret-key-long-enough-for-the-check-0123456789"


@pytest.fixture(autouse=True)
def empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The default database and `.env` are relative to the working directory.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(**environ: str) -> Settings:
    return Settings.from_environ({"RETOUR_SECRET_KEY": SECRET, **environ}, env_file=None)


def test_defaults(tmp_path: Path) -> None:
    settings = load()
    assert settings.database_url == "sqlite:///./retour.db" and settings.is_sqlite
    assert settings.redis_url is None
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.rate_limit == "20/minute"
    assert settings.public_min_count == 100
    assert settings.trusted_proxies == ()


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        pytest.param(
            "RETOUR_DATABASE_URL",
            "sqlite:////var/lib/retour/retour.db",
            "database_url",
            "sqlite:////var/lib/retour/retour.db",
            id="database-sqlite",
        ),
        pytest.param(
            "RETOUR_DATABASE_URL",
            "postgresql://retour:pw@db:5432/retour",
            "database_url",
            "postgresql://retour:pw@db:5432/retour",
            id="database-postgresql",
        ),
        pytest.param(
            "RETOUR_REDIS_URL",
            "redis://cache:6379/2",
            "redis_url",
            "redis://cache:6379/2",
            id="redis",
        ),
        pytest.param("RETOUR_REDIS_URL", "", "redis_url", None, id="redis-empty-means-unset"),
        pytest.param(
            "RETOUR_REDIS_PREFIX",
            "retour-recette",
            "redis_prefix",
            "retour-recette",
            id="redis-prefix",
        ),
        pytest.param(
            "RETOUR_PUBLIC_URL",
            "https://retour.example.gouv.fr/",
            "public_url",
            "https://retour.example.gouv.fr",
            id="public-url-trailing-slash",
        ),
        pytest.param("RETOUR_RATE_LIMIT", "5/second", "rate_limit", "5/second", id="rate-limit"),
        pytest.param(
            "RETOUR_RATE_LIMIT", "100 per hour", "rate_limit", "100 per hour", id="rate-limit-words"
        ),
        pytest.param(
            "RETOUR_PROCEDURE_RATE_LIMIT",
            "1000/minute",
            "procedure_rate_limit",
            "1000/minute",
            id="procedure-rate-limit",
        ),
        pytest.param(
            "RETOUR_PUBLIC_MIN_COUNT", "50", "public_min_count", 50, id="public-min-count"
        ),
        pytest.param(
            "RETOUR_TRUSTED_PROXIES",
            "10.0.0.1, 192.168.0.0/16,::1",
            "trusted_proxies",
            ("10.0.0.1", "192.168.0.0/16", "::1"),
            id="trusted-proxies",
        ),
        pytest.param(
            "RETOUR_CONTACT_RETENTION_DAYS",
            "30",
            "contact_retention_days",
            30,
            id="contact-retention",
        ),
        pytest.param(
            "RETOUR_SMTP_HOST",
            "smtp.example.gouv.fr",
            "smtp_host",
            "smtp.example.gouv.fr",
            id="smtp-host",
        ),
        pytest.param("RETOUR_SMTP_PORT", "587", "smtp_port", 587, id="smtp-port"),
        pytest.param("RETOUR_SMTP_USER", "retour", "smtp_user", "retour", id="smtp-user"),
        pytest.param("RETOUR_SMTP_PASSWORD", "pw", "smtp_password", "pw", id="smtp-password"),
        pytest.param("RETOUR_SMTP_STARTTLS", "yes", "smtp_starttls", True, id="smtp-starttls"),
        pytest.param("RETOUR_SMTP_STARTTLS", "0", "smtp_starttls", False, id="smtp-starttls-off"),
        pytest.param(
            "RETOUR_MAIL_FROM",
            "Retour <nepasrepondre@example.gouv.fr>",
            "mail_from",
            "Retour <nepasrepondre@example.gouv.fr>",
            id="mail-from",
        ),
    ],
)
def test_every_variable_is_read(variable: str, value: str, attribute: str, expected: Any) -> None:
    assert getattr(load(**{variable: value}), attribute) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("RETOUR_DATABASE_URL", "mysql://root@db/retour", id="database-other-engine"),
        pytest.param("RETOUR_DATABASE_URL", "retour.db", id="database-not-a-url"),
        pytest.param("RETOUR_SECRET_KEY", "too-short", id="secret-short"),
        pytest.param("RETOUR_REDIS_URL", "localhost:6379", id="redis-no-scheme"),
        pytest.param("RETOUR_PUBLIC_URL", "retour.example.gouv.fr", id="public-url-no-scheme"),
        pytest.param("RETOUR_RATE_LIMIT", "20 per fortnight", id="rate-limit-unit"),
        pytest.param("RETOUR_RATE_LIMIT", "beaucoup", id="rate-limit-words"),
        pytest.param("RETOUR_PROCEDURE_RATE_LIMIT", "600", id="procedure-rate-limit"),
        pytest.param("RETOUR_PUBLIC_MIN_COUNT", "cent", id="min-count-not-a-number"),
        pytest.param("RETOUR_PUBLIC_MIN_COUNT", "0", id="min-count-zero"),
        pytest.param("RETOUR_TRUSTED_PROXIES", "proxy.internal", id="proxy-name"),
        pytest.param("RETOUR_CONTACT_RETENTION_DAYS", "-1", id="retention-negative"),
        pytest.param("RETOUR_SMTP_PORT", "smtp", id="smtp-port"),
        pytest.param("RETOUR_SMTP_STARTTLS", "peut-être", id="starttls"),
    ],
)
def test_every_bad_value_stops_with_one_sentence_naming_it(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(**{variable: value})
    message = str(caught.value)
    assert message.startswith(variable) and "\n" not in message and message.endswith(".")


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# local settings\n"
        "RETOUR_PUBLIC_URL=https://depuis-le-fichier.example.gouv.fr\n"
        "RETOUR_RATE_LIMIT=7/minute\n"
        f"RETOUR_SECRET_KEY={SECRET}\n"
    )
    settings = Settings.from_environ({"RETOUR_RATE_LIMIT": "9/minute"})
    assert settings.public_url == "https://depuis-le-fichier.example.gouv.fr"
    assert settings.rate_limit == "9/minute"
    assert settings.secret_key == SECRET


def test_bad_value_in_dotenv_is_named_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RETOUR_PUBLIC_MIN_COUNT=beaucoup\n")
    with pytest.raises(SettingsError, match=r"^RETOUR_PUBLIC_MIN_COUNT must be a whole number"):
        Settings.from_environ({})


def test_secret_is_generated_once_beside_the_sqlite_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {"RETOUR_DATABASE_URL": f"sqlite:///{tmp_path}/data/retour.db"}
    with caplog.at_level(logging.WARNING, logger="retour"):
        first = Settings.from_environ(environ, env_file=None)
    secret_file = tmp_path / "data" / SECRET_FILE_NAME
    assert len(first.secret_key) >= 32
    assert secret_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        len(warnings) == 1
        and "RETOUR_SECRET_KEY" in warnings[0]
        and str(secret_file) in warnings[0]
    )

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retour"):
        second = Settings.from_environ(environ, env_file=None)
    assert second.secret_key == first.secret_key
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_default_database_keeps_its_secret_in_the_working_directory(tmp_path: Path) -> None:
    settings = Settings.from_environ({}, env_file=None)
    assert (tmp_path / SECRET_FILE_NAME).read_text().strip() == settings.secret_key


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql+psycopg://retour@db/retour", id="postgresql"),
        pytest.param("sqlite://", id="sqlite-in-memory"),
    ],
)
def test_no_secret_without_a_sqlite_file_is_a_clear_error(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_environ({"RETOUR_DATABASE_URL": url}, env_file=None)
    assert str(caught.value) == (
        "RETOUR_SECRET_KEY must be set when RETOUR_DATABASE_URL is not a SQLite file."
    )


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["db", "upgrade"], id="db-upgrade"),
        pytest.param(["serve", "--port", "1"], id="serve"),
        pytest.param(["demo"], id="demo"),
        pytest.param(["feedback", "export"], id="feedback-export"),
    ],
)
def test_cli_prints_one_clear_line_and_fails(command: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETOUR_")}
    env.update(RETOUR_SECRET_KEY=SECRET, RETOUR_RATE_LIMIT="lots")
    done = subprocess.run(
        [sys.executable, "-m", "retour.cli", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        done.stderr == "Error: RETOUR_RATE_LIMIT is not a rate limit such as '20/minute': 'lots'.\n"
    )
    assert done.stdout == ""
    assert not (tmp_path / "retour.db").exists()  # stopped before touching anything


def test_every_variable_is_documented() -> None:
    source = (ROOT / "retour" / "settings.py").read_text(encoding="utf-8")
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    variables = sorted(set(re.findall(r"RETOUR_[A-Z_]+", source)))
    assert variables, "no RETOUR_ variable found in settings.py"
    missing = [name for name in variables if f"`{name}`" not in documented]
    assert missing == [], f"docs/configuration.md does not describe {missing}"


OIDC = {
    "RETOUR_OIDC_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2",
    "RETOUR_OIDC_CLIENT_ID": "retour",
    "RETOUR_OIDC_CLIENT_SECRET": "s3cret",
}


def test_openid_connect_settings_are_read() -> None:
    settings = load(**OIDC, RETOUR_OIDC_SCOPES="openid  email", RETOUR_PASSWORD_LOGIN="false")
    assert settings.oidc_enabled
    assert settings.oidc_issuer == "https://auth.agentconnect.gouv.fr/api/v2"
    assert (settings.oidc_client_id, settings.oidc_client_secret) == ("retour", "s3cret")
    assert settings.oidc_scopes == "openid email"
    assert settings.password_login is False
    assert "s3cret" not in repr(settings)
    defaults = load()
    assert not defaults.oidc_enabled and defaults.password_login
    assert defaults.oidc_scopes == "openid email given_name usual_name"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param(
            {"RETOUR_OIDC_ISSUER": OIDC["RETOUR_OIDC_ISSUER"]},
            "RETOUR_OIDC_CLIENT_ID, RETOUR_OIDC_CLIENT_SECRET",
            id="issuer-alone",
        ),
        pytest.param(
            {**OIDC, "RETOUR_OIDC_ISSUER": "auth.example.gouv.fr"},
            "RETOUR_OIDC_ISSUER",
            id="issuer-not-a-url",
        ),
        pytest.param({**OIDC, "RETOUR_OIDC_SCOPES": "email"}, "RETOUR_OIDC_SCOPES", id="no-openid"),
        pytest.param(
            {"RETOUR_PASSWORD_LOGIN": "false"}, "RETOUR_PASSWORD_LOGIN", id="nobody-could-sign-in"
        ),
    ],
)
def test_bad_openid_connect_settings_stop_with_one_sentence(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load(**environ)
    message = str(caught.value)
    assert message.startswith(named) and "\n" not in message and message.endswith(".")
