"""French labels for statuses, kinds and ratings (translated through `_` in templates)."""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

PARIS: Final = ZoneInfo("Europe/Paris")


def format_datetime(value: dt.datetime | None) -> str:
    """A date and time as staff read them: Paris time, day first."""
    if value is None:
        return "—"
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


STATUS_LABELS: Final = {
    "new": "Nouveau",
    "acknowledged": "Pris en compte",
    "in_progress": "En cours",
    "resolved": "Résolu",
    "rejected": "Rejeté",
    "spam": "Indésirable",
}
# What the button that moves a submission to a status says.
STATUS_ACTIONS: Final = {
    "new": "Remettre en nouveau",
    "acknowledged": "Prendre en compte",
    "in_progress": "Passer en cours",
    "resolved": "Marquer résolu",
    "rejected": "Rejeter",
    "spam": "Marquer indésirable",
}
# DSFR badge colours per status.
STATUS_BADGES: Final = {
    "new": "fr-badge--new",
    "acknowledged": "fr-badge--info",
    "in_progress": "fr-badge--warning",
    "resolved": "fr-badge--success",
    "rejected": "fr-badge--error",
    "spam": "",
}
KIND_LABELS: Final = {
    "complaint": "Réclamation",
    "change_request": "Demande d'évolution",
    "malfunction": "Dysfonctionnement",
    "omission": "Information manquante",
    "accessibility": "Problème d'accessibilité",
    "praise": "Félicitations",
    "other": "Autre",
}
RATING_LABELS: Final = {1: "Mal", 2: "Moyennement", 3: "Bien"}
# How feedback reached the administration (retour.models.CHANNELS).
CHANNEL_LABELS: Final = {
    "online": "En ligne",
    "assisted": "En ligne, avec un conseiller",
    "counter": "Au guichet",
    "phone": "Par téléphone",
    "post": "Par courrier",
    "france_services": "Par un conseiller France Services",
}
# The redaction rules' categories (docs/privacy.md).
PII_LABELS: Final = {
    "email": "Adresse électronique",
    "phone": "Téléphone",
    "nir": "Numéro de sécurité sociale",
    "iban": "IBAN",
    "card": "Carte bancaire",
    "plate": "Plaque d'immatriculation",
    "address": "Adresse postale",
    "birthdate": "Date de naissance",
    "name": "Nom",
    "reference": "Numéro de dossier",
}
HISTORY_LABELS: Final = {
    "status": "Statut modifié",
    "assign": "Attribution",
    "note": "Note interne ajoutée",
    "tag_add": "Étiquette ajoutée",
    "tag_remove": "Étiquette retirée",
    "answer_publish": "Réponse publique publiée",
    "answer_edit": "Réponse publique modifiée",
    "answer_email": "Réponse envoyée par courriel",
    "contact_email_purged": "Adresse électronique de l'usager effacée",
    "record": "Retour enregistré par un agent",
    "problem_link": "Lié à un problème",
    "problem_unlink": "Retiré d'un problème",
    "problem_answer_email": "Réponse du problème envoyée par courriel",
}

LABELS: Final[dict[str, object]] = {
    "status_labels": STATUS_LABELS,
    "status_actions": STATUS_ACTIONS,
    "status_badges": STATUS_BADGES,
    "kind_labels": KIND_LABELS,
    "rating_labels": RATING_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "pii_labels": PII_LABELS,
    "history_labels": HISTORY_LABELS,
    "fmt": format_datetime,
}
