"""GET /api/v1/procedures/{procedure_id}/form: what the dialog needs, and a signed token."""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse

from ingest.errors import UnknownProcedure
from ingest.state import ingest_state
from ingest.submissions import find_procedure
from retour.i18n import negotiate
from retour.models import COMMENT_MAX_LENGTH, KINDS, PROCEDURE_ID_RE, SATISFACTION_LEVELS

DEFAULT_BUTTON_LABEL: Final = {"fr": "Je fais un retour", "en": "Give feedback"}

LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "title": "Je fais un retour",
        "satisfaction": "Comment s'est passée votre démarche ?",
        "kind": "De quoi s'agit-il ? (facultatif)",
        "comment": "Votre message (facultatif)",
        "comment_hint": "Ne donnez pas d'informations personnelles (numéro de dossier, "
        "de sécurité sociale, coordonnées bancaires).",
        "contact": "Je souhaite être recontacté",
        "contact_email": "Adresse électronique",
        "submit": "Envoyer",
        "cancel": "Annuler",
        "close": "Fermer",
        "sent": "Merci, votre retour a bien été envoyé.",
        "receipt": "Numéro de suivi",
        "queued": "Vous semblez hors ligne : votre retour sera envoyé dès que possible.",
        "error": "L'envoi a échoué. Réessayez dans un instant.",
        "required": "Ce champ est obligatoire.",
        "too_long": "Votre message dépasse {max} caractères.",
    },
    "en": {
        "title": "Give feedback",
        "satisfaction": "How did your procedure go?",
        "kind": "What is it about? (optional)",
        "comment": "Your message (optional)",
        "comment_hint": "Do not give personal information (file number, social security "
        "number, bank details).",
        "contact": "I would like to be contacted",
        "contact_email": "Email address",
        "submit": "Send",
        "cancel": "Cancel",
        "close": "Close",
        "sent": "Thank you, your feedback has been sent.",
        "receipt": "Tracking number",
        "queued": "You seem to be offline: your feedback will be sent as soon as possible.",
        "error": "Sending failed. Please try again in a moment.",
        "required": "This field is required.",
        "too_long": "Your message is longer than {max} characters.",
    },
}

SATISFACTION_LABELS: Final = {
    "fr": {1: "Mal", 2: "Moyennement", 3: "Bien"},
    "en": {1: "Badly", 2: "So-so", 3: "Well"},
}

KIND_LABELS: Final = {
    "fr": {
        "complaint": "Réclamation",
        "change_request": "Demande d'évolution",
        "malfunction": "Dysfonctionnement",
        "omission": "Information manquante",
        "accessibility": "Problème d'accessibilité",
        "praise": "Félicitations",
        "other": "Autre",
    },
    "en": {
        "complaint": "Complaint",
        "change_request": "Change request",
        "malfunction": "Malfunction",
        "omission": "Missing information",
        "accessibility": "Accessibility problem",
        "praise": "Praise",
        "other": "Other",
    },
}


async def form_config(request: Request) -> JSONResponse:
    state = ingest_state(request)
    procedure_id = request.path_params["procedure_id"]
    if not PROCEDURE_ID_RE.match(procedure_id):
        raise UnknownProcedure("Démarche inconnue.", field="procedure_id")
    procedure = await find_procedure(state, procedure_id)
    locale = negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))
    body: dict[str, Any] = {
        "procedure_id": procedure.id,
        "title": procedure.title,
        # An archived procedure's page may still carry the button: its form works as usual.
        "archived": not procedure.active,
        "button_label": procedure.button_label or DEFAULT_BUTTON_LABEL[locale],
        "locale": locale,
        "labels": LABELS[locale],
        "satisfaction": [
            {"value": level, "label": SATISFACTION_LABELS[locale][level]}
            for level in SATISFACTION_LEVELS
        ],
        "kinds": [{"value": kind, "label": KIND_LABELS[locale][kind]} for kind in KINDS],
        "comment_max_length": COMMENT_MAX_LENGTH,
        "token": state.tokens.issue(procedure.id),
        "token_max_age": state.tokens.max_age,
    }
    # The token is fresh on every call; nothing here may be cached or shared.
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Vary": "Accept-Language"})
