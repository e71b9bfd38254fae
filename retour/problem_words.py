"""How problems read: French labels for staff and for the public (translated by callers)."""

from __future__ import annotations

from typing import Final

# In the console.
PROBLEM_STATUS_LABELS: Final = {
    "open": "Ouvert",
    "planned": "Correction prévue",
    "fixed": "Corrigé",
    "wont_fix": "Ne sera pas corrigé",
}
# What the button that moves a problem to a status says.
PROBLEM_STATUS_ACTIONS: Final = {
    "open": "Rouvrir",
    "planned": "Prévoir la correction",
    "fixed": "Marquer corrigé",
    "wont_fix": "Ne pas corriger",
}
PROBLEM_STATUS_BADGES: Final = {
    "open": "fr-badge--new",
    "planned": "fr-badge--warning",
    "fixed": "fr-badge--success",
    "wont_fix": "fr-badge--error",
}
# On the public pages and in the open data's documentation.
PUBLIC_PROBLEM_STATUS_LABELS: Final = {
    "open": "Signalé, en cours d’analyse",
    "planned": "Correction prévue",
    "fixed": "Corrigé",
    "wont_fix": "Ne sera pas corrigé",
}
PROBLEM_HISTORY_LABELS: Final = {
    "create": "Problème créé",
    "edit": "Problème modifié",
    "status": "Statut modifié",
    "link": "Retours liés",
    "unlink": "Retours retirés",
    "merge_into": "Fusionné dans un autre problème",
    "merge_from": "Un autre problème fusionné ici",
    "answer_email": "Réponse envoyée par courriel",
    "incident": "Rattaché à un incident",
}
INCIDENT_SIGNAL_LABELS: Final = {
    "malfunction": "signalements de dysfonctionnement",
    "bad": "avis « Mal »",
}
