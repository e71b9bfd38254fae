"""Validating and accepting one submission: shared by the JSON API and the hosted no-JS form.

Interface (stable; the hosted form builds on it):

    parse_submission(data: Mapping[str, Any]) -> Submission
        Validates a decoded JSON object (or a form turned into a dict: `satisfaction` must
        then be converted to int by the caller). Raises `FieldError` (422) whose `.field`,
        `.code` and `.message` say what is wrong. The comment is cleaned here and masked by
        the writer process before it is stored (`ingest.committer.prepare`): the raw text
        is never stored, logged or quoted in an error.

    async accept(state: IngestState, submission: Submission, *, verify_token: bool = True)
        -> Accepted(id, receipt)
        Finds the procedure (`UnknownProcedure`, 404; an archived one is found and its
        submissions stored), checks the form token unless told
        not to (`TokenRefusedError`, 403), and stores the submission through the group-commit
        writer process, returning only once it is committed (`Unavailable`, 503, when the database
        refused: nothing stored, retry with the same client_id). A repeated client_id
        answers with the first submission's id and receipt.

Rate limits are separate: `ingest.limits.check_submission_limits(request, procedure_id)`.
All errors derive from `ingest.errors.ApiError` (status, code, message, field).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ingest.errors import FieldError, TokenRefusedError, UnknownProcedure
from ingest.rows import IncomingFeedback
from retour.models import COMMENT_MAX_LENGTH, KINDS, PROCEDURE_ID_RE, SATISFACTION_LEVELS, utcnow
from retour.redaction import clean_comment
from retour.signing import TokenRefused

if TYPE_CHECKING:
    from ingest.procedures import KnownProcedure
    from ingest.state import IngestState

LOCALES: Final = ("fr", "en")
URL_MAX_LENGTH: Final = 2000
ORIGIN_MAX_LENGTH: Final = 300
EMAIL_MAX_LENGTH: Final = 254
TOKEN_MAX_LENGTH: Final = 512
# Deliberately loose: the address is only used to write back; a typo is the citizen's to fix.
# No backslash before the quotes: the hosted form gives this pattern to browsers as it is.
EMAIL_RE: Final = re.compile(r"""^[^@\s<>"',;]+@[^@\s<>"',;]+\.[^@\s<>"',;]{2,}$""")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# The page URLs widgets send: a lower-case http(s) scheme and host name with no port or
# user, then a path of visible ASCII. Anything else takes urlsplit's general path.
_PLAIN_PAGE_URL: Final = re.compile(
    r"(https?://[a-z0-9.\-]+)(/[!-\"$->@-~]*)?(?:[?#].*)?", re.DOTALL
)
# A UUID already in the canonical form `str(uuid.UUID(...))` gives (what the widget sends):
# it is returned as it is, without building a UUID object (5 us of the request).
_CANONICAL_UUID_RE: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


class Submission(NamedTuple):
    """A validated submission; `comment` is cleaned, and masked only once stored.

    Immutable, and a named tuple rather than a frozen dataclass, whose `__init__` sets
    each field through `object.__setattr__` (2.2 against 0.7 us a request)."""

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


async def accept(
    state: IngestState, submission: Submission, *, verify_token: bool = True
) -> Accepted:
    procedure = await find_procedure(state, submission.procedure_id)
    if verify_token:
        check_token(state, submission)
    return await store(state, submission, procedure)


async def store(state: IngestState, submission: Submission, procedure: KnownProcedure) -> Accepted:
    incoming = IncomingFeedback(
        client_id=submission.client_id,
        procedure_id=procedure.id,
        ministry_id=procedure.ministry_id,
        received_at=utcnow(),
        satisfaction=submission.satisfaction,
        kind=submission.kind,
        comment=submission.comment,
        contact_email=submission.contact_email,
        page_url=submission.page_url,
        page_origin=submission.page_origin,
        # No page address (a hosted form opened without a Referer): unknown, not unregistered.
        origin_registered=(
            None if submission.page_origin is None else submission.page_origin in procedure.origins
        ),
        honeypot=submission.honeypot,
        locale=submission.locale,
    )
    feedback_id, receipt = await state.writer.add_feedback(incoming)
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
    if _CANONICAL_UUID_RE.fullmatch(value):
        return value
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
    plain = _PLAIN_PAGE_URL.fullmatch(value)
    if plain is not None:
        # What the general case below gives for such a URL (tests/ingest/test_page_location.py
        # checks both agree), without urlsplit's objects: a quarter of validating a submission.
        origin = plain.group(1)
        url = origin + (plain.group(2) or "/")
        if len(url) > URL_MAX_LENGTH or len(origin) > ORIGIN_MAX_LENGTH:
            return None
        return url, origin
    return _general_page_location(value)


def _general_page_location(value: Any) -> tuple[str, str] | None:
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
