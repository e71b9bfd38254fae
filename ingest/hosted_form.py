"""GET, POST /r/{procedure_id}: the hosted form, the same questions with no JavaScript at all.

It is what the snippet's link opens before the script loads or where scripts are blocked.
Server-rendered (Jinja2, autoescaped), DSFR, no cookie: the signed form token travels in a
hidden field, and so does a client_id made when the form is shown, so that sending the same
form twice (double click, back and resend) stores one submission. After a valid POST the
browser is redirected (303) to a thank-you page, so reloading it sends nothing.

A POST that stores nothing (an error, a refused token, the personal-data check) answers with
the form again, cacheable by the browser alone (`private, no-cache`): Back from a later page
then shows it again instead of asking to resubmit the form. A comment in which personal data
is found is shown again once, with the notice, before it is sent: the citizen learns what
would be masked while they can still change it, as the widget tells them while they type.

`/r/{id}?accompagne=1` is the same form filled in with an adviser (France Services, a
counter): its submissions go through the same `accept`, stored with the channel
`assisted`, so the figures count them apart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ingest.errors import ApiError, FieldError, RateLimited, TokenRefusedError, UnknownProcedure
from ingest.procedures import KnownProcedure
from ingest.state import IngestState, ingest_state
from ingest.submissions import EMAIL_RE, accept, find_procedure, page_location, parse_submission
from retour.i18n import Translate, negotiate, translator
from retour.models import COMMENT_MAX_LENGTH, KINDS, PROCEDURE_ID_RE
from retour.receipts import normalize_receipt
from retour.redaction import clean_comment, mask
from retour.typography import french_spacing
from retour.uuids import uuid7

HERE: Final = Path(__file__).resolve().parent
LOCALES_DIRS: Final = (HERE / "locales",)
# Autoescaped: procedure titles and everything typed back into the form are text, never HTML.
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)
# `_()` already applies French typography; the filter is for French written outside it.
templates.env.filters["french_spacing"] = french_spacing

SATISFACTION_CHOICES: Final = (("3", "Bien"), ("2", "Moyennement"), ("1", "Mal"))
KIND_CHOICES: Final = dict(
    zip(
        KINDS,
        (
            "Une réclamation",
            "Une demande d’amélioration",
            "Un dysfonctionnement",
            "Une information ou une étape manquante",
            "Un problème d’accessibilité (lecteur d’écran, clavier, zoom…)",
            "Un compliment",
            "Autre chose",
        ),
        strict=True,
    )
)
# How the notice names each category of personal data (the widget says the same).
PII_NAMES: Final = {
    "email": "une adresse électronique",
    "phone": "un numéro de téléphone",
    "nir": "un numéro de sécurité sociale",
    "iban": "un numéro de compte bancaire (IBAN)",
    "card": "un numéro de carte bancaire",
    "plate": "une plaque d’immatriculation",
    "address": "une adresse postale",
    "birthdate": "une date de naissance",
    "name": "votre nom",
    "reference": "un numéro de dossier",
}
# The page itself needs nothing but its own origin: no script at all.
CSP: Final = (
    "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",  # every page carries a fresh token
    "Referrer-Policy": "strict-origin",
    "X-Content-Type-Options": "nosniff",
}
# The answer to a POST that stored nothing: kept by the browser only (never a shared cache),
# so that going Back to it needs no resubmission (Chromium: ERR_CACHE_MISS with no-store).
AFTER_POST: Final = {"Cache-Control": "private, no-cache"}
# The service's own check of an address, as an HTML pattern (anchored by the browser).
EMAIL_PATTERN: Final = EMAIL_RE.pattern.removeprefix("^").removesuffix("$")
# What the thank-you page may show of the address an answer will go to: "j…@example.fr".
CONTACT_HINT_RE: Final = re.compile(r"[^@\s…]…@[a-z0-9.\-]{1,253}")


def pii_notice(categories: frozenset[str] | set[str], _: Translate) -> str:
    names: list[str] = []
    for category in sorted(categories):
        name = _(PII_NAMES.get(category, "des données personnelles"))
        if name not in names:
            names.append(name)
    if not names:
        return ""
    if len(names) == 1:
        return _(
            "Votre message semble contenir {what}. Cette information sera masquée : "
            "l’administration ne la verra pas.",
            what=names[0],
        )
    return _(
        "Votre message semble contenir {what}. Ces informations seront masquées : "
        "l’administration ne les verra pas.",
        what=", ".join(names[:-1]) + _(" et ") + names[-1],
    )


def contact_hint(address: str) -> str:
    """Enough of the address for the citizen to recognise it, not enough to give it away."""
    local, _at, domain = address.strip().rpartition("@")
    return f"{local[:1]}…@{domain.lower()}" if local and domain else ""


def _assisted(request: Request) -> bool:
    return request.query_params.get("accompagne") == "1"


def _action(request: Request, locale: str) -> str:
    query = {"accompagne": "1"} if _assisted(request) else {}
    if locale == "en":
        query["lang"] = "en"
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def _locale(request: Request, form: Mapping[str, Any] | None = None) -> str:
    chosen = (form or {}).get("lang") or request.query_params.get("lang")
    return negotiate(chosen, request.headers.get("accept-language"))


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    locale: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    _ = translator(locale, LOCALES_DIRS)
    context = {"_": _, "locale": locale, **context}
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers={**HEADERS, **(headers or {})}
    )


def _not_found(request: Request, locale: str) -> Response:
    return _render(request, "hosted_not_found.html", {}, locale, status_code=404)


def _form_page(
    request: Request,
    state: IngestState,
    procedure: KnownProcedure,
    locale: str,
    *,
    values: Mapping[str, str],
    errors: dict[str, str] | None = None,
    notice: str = "",
    pii_check: bool = False,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    _ = translator(locale, LOCALES_DIRS)
    comment = values.get("comment", "")
    categories = mask(clean_comment(comment)).categories if comment else frozenset()
    context = {
        "pii_check": pii_check,
        "email_pattern": EMAIL_PATTERN,
        "procedure": procedure,
        "token": state.tokens.issue(procedure.id),
        "values": values,
        "errors": errors or {},
        "notice": notice,
        "pii": pii_notice(categories, _),
        "satisfaction_choices": SATISFACTION_CHOICES,
        "kind_choices": KIND_CHOICES.items(),
        "max_length": COMMENT_MAX_LENGTH,
        "action": _action(request, locale),
        "assisted": _assisted(request),
    }
    return _render(request, "hosted_form.html", context, locale, status_code, headers)


async def _procedure(request: Request) -> KnownProcedure | None:
    procedure_id = request.path_params["procedure_id"]
    if not PROCEDURE_ID_RE.match(procedure_id):
        return None
    try:
        return await find_procedure(ingest_state(request), procedure_id)
    except UnknownProcedure:
        return None


async def show_form(request: Request) -> Response:
    locale = _locale(request)
    procedure = await _procedure(request)
    if procedure is None:
        return _not_found(request, locale)
    # Where the citizen came from, if their browser says (at least the origin, usually).
    referrer = page_location(request.headers.get("referer"))
    values = {"client_id": uuid7(), "page_url": referrer[0] if referrer else ""}
    return _form_page(request, ingest_state(request), procedure, locale, values=values)


FORM_FIELDS: Final = (
    "satisfaction",
    "kind",
    "comment",
    "wants_answer",
    "contact_email",
    "client_id",
    "page_url",
    "website",
    "token",
    "lang",
    "pii_seen",
)
MAX_FORM_BYTES: Final = 64 * 1024  # 2,000 characters, even percent-encoded, fit well inside


async def _read_form(request: Request) -> dict[str, str] | None:
    """The posted fields as strings (first value of each), or None if the body is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    values = dict.fromkeys(FORM_FIELDS, "")
    for name, value in reversed(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)):
        if name in values:
            values[name] = value
    return values


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _first_errors(values: Mapping[str, str]) -> dict[str, str]:
    # Checked here so that both can be reported at once; the rest is parse_submission's.
    errors: dict[str, str] = {}
    if values["satisfaction"] not in {choice for choice, _ in SATISFACTION_CHOICES}:
        errors["satisfaction"] = "Indiquez comment s’est passée votre démarche."
    if values["wants_answer"] and not values["contact_email"].strip():
        errors["contact_email"] = "Saisissez votre adresse électronique pour recevoir une réponse."
    return errors


FIELD_MESSAGES: Final = {
    "contact_email": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
    "comment": "Votre message fait {length} caractères : raccourcissez-le à 2 000 au plus. "
    "Tout ce que vous avez écrit est conservé ci-dessous.",
    "kind": "Choisissez un type de retour dans la liste.",
    "satisfaction": "Indiquez comment s’est passée votre démarche.",
}


async def submit_form(request: Request) -> Response:
    state = ingest_state(request)
    read = await _read_form(request)
    locale = _locale(request, read)
    procedure = await _procedure(request)
    if procedure is None:
        return _not_found(request, locale)
    if read is None:
        return _render(request, "hosted_not_found.html", {"too_large": True}, locale, 413)
    values = read
    # Hidden fields the citizen cannot fix: mend them rather than report them.
    if not _is_uuid(values["client_id"]):
        values["client_id"] = uuid7()
    if page_location(values["page_url"]) is None:
        values["page_url"] = ""
    _ = translator(locale, LOCALES_DIRS)

    def again(
        errors: dict[str, str], status_code: int = 422, headers: Mapping[str, str] | None = None
    ) -> Response:
        length = len(clean_comment(values["comment"]))
        shown = f"{length:,}".replace(",", "\u202f" if locale == "fr" else ",")
        translated = {field: _(message, length=shown) for field, message in errors.items()}
        return _form_page(
            request,
            state,
            procedure,
            locale,
            values=values,
            errors=translated,
            status_code=status_code,
            headers={**AFTER_POST, **(headers or {})},
        )

    errors = _first_errors(values)
    if errors:
        return again(errors)
    data = {
        "procedure_id": procedure.id,
        "token": values["token"],
        "client_id": values["client_id"],
        "satisfaction": int(values["satisfaction"]),
        "kind": values["kind"] or None,
        "comment": values["comment"],
        # An address typed on purpose is consent enough, ticked or not.
        "contact_email": values["contact_email"].strip() or None,
        "page_url": values["page_url"] or None,
        "locale": locale,
        "website": values["website"],
    }
    try:
        submission = parse_submission(data)
        # What will be masked when it is stored (the same function, so the same categories).
        categories = mask(submission.comment).categories_text if submission.comment else ""
        if categories and values["pii_seen"] != categories:
            # Found and not yet shown to the citizen: shown now, while they can still change it.
            values["pii_seen"] = categories
            return _form_page(
                request, state, procedure, locale, values=values, pii_check=True, headers=AFTER_POST
            )
        # A filled honeypot is stored as spam, whatever the mode.
        assisted = _assisted(request) and not submission.honeypot
        accepted = await accept(request, data, channel="assisted" if assisted else "online")
    except (TokenRefusedError, FieldError) as exc:
        if isinstance(exc, FieldError) and exc.field != "token":
            field = exc.field if exc.field in FIELD_MESSAGES else "form"
            return again({field: FIELD_MESSAGES.get(field, exc.message)})
        # The page was open too long (or the token is missing or not ours): the same form
        # with a fresh token and everything typed, to send again. Not an error for the citizen.
        notice = _("Pour votre sécurité, vérifiez votre message puis envoyez-le à nouveau.")
        return _form_page(
            request, state, procedure, locale, values=values, notice=notice, headers=AFTER_POST
        )
    except RateLimited as exc:
        message = "Trop d’envois en peu de temps. Patientez une minute puis envoyez à nouveau."
        return again({"form": message}, status_code=429, headers=exc.headers)
    except ApiError as exc:
        return again({"form": exc.message}, status_code=exc.status, headers=exc.headers)
    query = {"receipt": accepted.receipt}
    # For the thank-you page to say what was masked; only category names travel in the URL.
    if categories:
        query["pii"] = categories
    if locale == "en":
        query["lang"] = "en"
    if submission.contact_email:
        query["answer"] = contact_hint(submission.contact_email) or "1"
    if _assisted(request):
        query["accompagne"] = "1"
    url = f"{request.url.path}/merci?{urlencode(query)}"
    return RedirectResponse(url, status_code=303, headers=HEADERS)


async def thanks(request: Request) -> Response:
    locale = _locale(request)
    procedure = await _procedure(request)
    receipt = normalize_receipt(request.query_params.get("receipt", ""))
    if procedure is None or receipt is None:
        return _not_found(request, locale)
    _ = translator(locale, LOCALES_DIRS)
    categories = set(request.query_params.get("pii", "").split()) & set(PII_NAMES)
    answer = request.query_params.get("answer", "")
    context = {
        "procedure": procedure,
        "receipt": receipt,
        "pii": pii_notice(categories, _),
        "answer": answer == "1" or CONTACT_HINT_RE.fullmatch(answer) is not None,
        # Shown only in the shape contact_hint gives, so the URL cannot put words on the page.
        "contact_hint": answer if CONTACT_HINT_RE.fullmatch(answer) else "",
        "assisted": _assisted(request),
    }
    return _render(request, "hosted_thanks.html", context, locale)


hosted_form_routes: Final = [
    Route("/r/{procedure_id}", show_form, methods=["GET"]),
    Route("/r/{procedure_id}", submit_form, methods=["POST"]),
    Route("/r/{procedure_id}/merci", thanks, methods=["GET"]),
]
