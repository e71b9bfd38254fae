"""Validating and accepting one submission: the JSON API and the hosted no-JS form alike.

    parse_submission(data: Mapping[str, Any]) -> Submission
        Validates a decoded JSON object (or a form turned into a dict: `satisfaction` must
        then be converted to int by the caller). Raises `FieldError` (422) whose `.field`,
        `.code` and `.message` say what is wrong. The comment is cleaned here and masked
        before it is stored (`retour.intake.feedback_row`): the raw text is never stored,
        logged or quoted in an error.

    async accept(request, data, *, channel="online") -> Accepted(id, receipt)
        The one way a submission is accepted, in this order: the per-address rate limit
        (`RateLimited`, 429), the fields (`FieldError`, 422), the procedure (`UnknownProcedure`,
        404; an archived one is found and its submissions stored), the form token
        (`TokenRefusedError`, 403), the per-procedure rate limit, then the store through the
        group-commit writer, returning only once it is committed (`Unavailable`, 503: the
        outcome is unknown, retry with the same client_id). A repeated client_id answers
        with the first submission's id and receipt.

All errors derive from `ingest.errors.ApiError` (status, code, message, field).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request

from ingest.errors import FieldError, TokenRefusedError, UnknownProcedure
from ingest.state import IngestState, ingest_state
from retour.intake import feedback_row
from retour.models import COMMENT_MAX_LENGTH, KINDS, PROCEDURE_ID_RE, SATISFACTION_LEVELS, utcnow
from retour.redaction import clean_comment
from retour.signing import TokenRefused

if TYPE_CHECKING:
    from ingest.procedures import KnownProcedure

LOCALES: Final = ("fr", "en")
URL_MAX_LENGTH: Final = 2000
ORIGIN_MAX_LENGTH: Final = 300
EMAIL_MAX_LENGTH: Final = 254
TOKEN_MAX_LENGTH: Final = 512
# Deliberately loose: the address is only used to write back; a typo is the citizen's to fix.
# No backslash before the quotes: the hosted form gives this pattern to browsers as it is.
EMAIL_RE: Final = re.compile(r"""^[^@\s<>"',;]+@[^@\s<>"',;]+\.[^@\s<>"',;]{2,}$""")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class Submission(NamedTuple):
    """A validated submission; `comment` is cleaned, and masked only once stored."""

    procedure_id: str
    token: str | None
    client_id: str
    satisfaction: int
    kind: str | None
    comment: str
    contact_email: str | None
    page_url: str | None
    page_origin: str | None
    locale: str
    honeypot: bool


class Accepted(NamedTuple):
    id: int
    receipt: str


def parse_submission(data: Mapping[str, Any]) -> Submission:
    procedure_id = _procedure_id(data.get("procedure_id"))
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH):
        raise FieldError("Le jeton doit être une chaîne.", field="token")
    comment = _comment(data.get("comment"))
    page_url, page_origin = _page(data.get("page_url"))
    website = data.get("website")
    return Submission(
        procedure_id=procedure_id,
        token=token or None,
        client_id=_client_id(data.get("client_id")),
        satisfaction=_satisfaction(data.get("satisfaction")),
        kind=_kind(data.get("kind")),
        comment=comment,
        contact_email=_email(data.get("contact_email")),
        page_url=page_url,
        page_origin=page_origin,
        locale=_locale(data.get("locale")),
        # Any value at all in the hidden field means a robot filled it.
        honeypot=website not in (None, "", False),
    )


async def find_procedure(state: IngestState, procedure_id: str) -> KnownProcedure:
    procedure = await state.procedures.get(procedure_id)
    if procedure is None:
        raise UnknownProcedure("Démarche inconnue.", field="procedure_id")
    return procedure


def check_token(state: IngestState, submission: Submission) -> None:
    if submission.token is None:
        raise FieldError("Le jeton du formulaire manque.", field="token", code="required")
    try:
        state.tokens.check(submission.token, submission.procedure_id)
    except UnicodeError as exc:  # a token no signer could have made
        raise TokenRefusedError("Jeton refusé.", field="token", code="token_forged") from exc
    except TokenRefused as exc:
        raise TokenRefusedError(
            "Jeton refusé : demandez un nouveau formulaire.",
            field="token",
            code=f"token_{exc.reason}",
        ) from exc


async def accept(request: Request, data: Mapping[str, Any], *, channel: str = "online") -> Accepted:
    state = ingest_state(request)
    await state.limits.check_client(request)  # first: the cheapest refusal
    submission = parse_submission(data)
    procedure = await find_procedure(state, submission.procedure_id)
    check_token(state, submission)
    await state.limits.check_procedure(procedure.id)
    return await store(state, submission, procedure, channel=channel)


async def store(
    state: IngestState, submission: Submission, procedure: KnownProcedure, *, channel: str
) -> Accepted:
    row = feedback_row(
        client_id=submission.client_id,
        comment=submission.comment,
        honeypot=submission.honeypot,
        received_at=utcnow(),
        procedure_id=procedure.id,
        ministry_id=procedure.ministry_id,
        satisfaction=submission.satisfaction,
        kind=submission.kind,
        contact_email=submission.contact_email,
        page_url=submission.page_url,
        page_origin=submission.page_origin,
        # No page address (a hosted form opened without a Referer): unknown, not unregistered.
        origin_registered=(
            None if submission.page_origin is None else submission.page_origin in procedure.origins
        ),
        locale=submission.locale,
        channel=channel,
    )
    feedback_id, receipt = await state.writer.add_feedback(row)
    return Accepted(id=feedback_id, receipt=receipt)


# --- Fields ------------------------------------------------------------------------------


def _procedure_id(value: Any) -> str:
    if value is None or value == "":
        raise FieldError("La démarche manque.", field="procedure_id", code="required")
    if not isinstance(value, str) or not PROCEDURE_ID_RE.match(value):
        raise FieldError("Identifiant de démarche invalide.", field="procedure_id")
    return value


def _client_id(value: Any) -> str:
    if value is None or value == "":
        raise FieldError("L'identifiant client manque.", field="client_id", code="required")
    if not isinstance(value, str) or len(value) > 45:
        raise FieldError("L'identifiant client doit être un UUID.", field="client_id")
    try:
        # Canonical form, so that the same UUID written differently is still one submission.
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise FieldError("L'identifiant client doit être un UUID.", field="client_id") from exc


def _satisfaction(value: Any) -> int:
    if value is None:
        raise FieldError("La satisfaction manque.", field="satisfaction", code="required")
    if isinstance(value, bool) or not isinstance(value, int) or value not in SATISFACTION_LEVELS:
        raise FieldError("La satisfaction vaut 1, 2 ou 3.", field="satisfaction")
    return value


def _kind(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in KINDS:
        raise FieldError("Type de retour inconnu.", field="kind")
    return value


def _comment(value: Any) -> str:
    if value is None:
        return ""
    if not _is_text(value, allow_nul=True):
        raise FieldError("Le commentaire doit être du texte.", field="comment")
    # NUL never belongs in text (PostgreSQL refuses it), whatever the cleaning rules become.
    cleaned = clean_comment(value).replace("\x00", "")
    if len(cleaned) > COMMENT_MAX_LENGTH:
        # The message never quotes the comment: it may hold personal data.
        raise FieldError(
            f"Le commentaire dépasse {COMMENT_MAX_LENGTH} caractères.",
            field="comment",
            code="too_long",
        )
    return cleaned


def _email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not _is_text(value) or len(value) > EMAIL_MAX_LENGTH or not EMAIL_RE.match(value.strip()):
        raise FieldError("Adresse électronique invalide.", field="contact_email")
    return value.strip()


def _page(value: Any) -> tuple[str | None, str | None]:
    if value is None or value == "":
        return None, None
    page = page_location(value)
    if page is None:
        raise FieldError("Adresse de page invalide.", field="page_url")
    return page


def page_location(value: Any) -> tuple[str, str] | None:
    """(URL without query and fragment, origin) of a page URL; None if it is not http(s).

    Query strings and fragments often carry personal data (file numbers, e-mails), so
    they are never stored.
    """
    if not _is_text(value) or len(value) > URL_MAX_LENGTH:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or not host.isprintable() or " " in host:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    origin = f"{scheme}://{netloc}"
    url = urlunsplit((scheme, netloc, parts.path or "/", "", ""))
    if len(url) > URL_MAX_LENGTH or len(origin) > ORIGIN_MAX_LENGTH or not url.isprintable():
        return None
    return url, origin


def _is_text(value: Any, *, allow_nul: bool = False) -> bool:
    """A string the database can store: no lone surrogate (from "\\ud800" in JSON), no NUL."""
    if not isinstance(value, str) or (not allow_nul and "\x00" in value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _locale(value: Any) -> str:
    if value is None or value == "":
        return "fr"
    if value not in LOCALES:
        raise FieldError("Langue : fr ou en.", field="locale")
    return str(value)
