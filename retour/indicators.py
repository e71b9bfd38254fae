"""The observatory's quality indicators: their vocabulary, how a value is read, and its level.

One home for what the console, the import, the public pages and the open data say about
indicators. The definitions follow the state's observatory of online procedures
(« Observatoire de la qualité des démarches en ligne », observatoire.numerique.gouv.fr;
its levels in DISIC/observatoire.numerique.gouv.fr `src/payload/seed/utils/indicator-levels.ts`,
its criteria in DISIC/observatoire `Aide/Observatoire.xml`); `docs/observatory.md` cites them.

A declared indicator is stored as text (`ProcedureIndicator.value`, and `detail` for the
second half of two-part indicators: the accessibility statement, where help is found), so
that one table and one open-data column hold every indicator, and editions keep them as is.
Labels are French; the console translates them through `_`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from retour.typography import french_spacing

# Declared by the ministry, with the evidence, in the form's order.
DECLARED: Final = (
    "online",
    "accessibility",
    "franceconnect",
    "dlnuf",
    "help",
    "online_share",
    "yearly_volume",
)
# Measured from citizens' answers and from real traffic (never declared).
MEASURED: Final = ("satisfaction", "button", "performance")
INDICATORS: Final = (*DECLARED, *MEASURED)

INDICATOR_LABELS: Final = {
    "online": "Réalisable en ligne",
    "accessibility": "Prise en compte du handicap",
    "franceconnect": "Identification avec FranceConnect",
    "dlnuf": "Dites-le-nous une fois",
    "help": "Aide joignable",
    "online_share": "Part de la démarche faite en ligne",
    "yearly_volume": "Volume annuel",
    "satisfaction": "Satisfaction des usagers",
    "button": "Bouton « Je fais un retour » en service",
    "performance": "Temps de chargement des pages",
}

# The observatory's colour scale (green, orange, red, grey).
LEVELS: Final = ("good", "to_improve", "poor", "no_data")
LEVEL_LABELS: Final = {
    "good": "Bon",
    "to_improve": "À améliorer",
    "poor": "Insuffisant",
    "no_data": "Pas de données",
}
LEVEL_BADGES: Final = {
    "good": "fr-badge--success",
    "to_improve": "fr-badge--warning",
    "poor": "fr-badge--error",
    "no_data": "fr-badge--info",
}

# How far the procedure is online (the observatory's « Réalisable en ligne »).
ONLINE_LEVELS: Final = ("not_online", "partial", "full", "proactive")
ONLINE_LABELS: Final = {
    "not_online": "Non réalisable en ligne",
    "partial": "Partiellement en ligne",
    "full": "Entièrement en ligne",
    "proactive": "Démarche proactive",
}
FRANCECONNECT_VALUES: Final = ("yes", "no", "not_applicable")
FRANCECONNECT_LABELS: Final = {"yes": "Oui", "no": "Non", "not_applicable": "Non applicable"}
# Human help only, as the observatory counts it (no bots, no FAQ).
HELP_CHANNELS: Final = ("phone", "email", "chat", "counter")
HELP_CHANNEL_LABELS: Final = {
    "phone": "Téléphone",
    "email": "Courriel ou formulaire",
    "chat": "Tchat avec une personne",
    "counter": "Guichet",
}
NO_STATEMENT: Final = "none"  # accessibility: the procedure has no accessibility statement
NOT_APPLICABLE: Final = "not_applicable"  # dlnuf: no data the administration holds is asked
NO_HELP: Final = "none"  # help: no human channel at all

# What the observatory aims at, said on the pages beside each indicator.
GOALS: Final = {
    "online": "Entièrement en ligne, ou proactive",
    "accessibility": "100 % de conformité au RGAA, avec une déclaration d’accessibilité",
    "franceconnect": "FranceConnect proposé quand il faut s’identifier",
    "dlnuf": "Au plus une donnée déjà détenue par l’administration redemandée",
    "help": "Au moins deux moyens de joindre une personne",
    "online_share": "Pas d’objectif : indicateur de contexte",
    "yearly_volume": "Pas d’objectif : indicateur de contexte",
    "satisfaction": "8 sur 10 ou plus",
    "button": "Bouton vu sur les pages de la démarche ces 7 derniers jours",
    "performance": "Pages chargées en moins de 0,4 s (médiane sur 28 jours)",
}
# How each level is reached, in the observatory's thresholds (shown on the explanation page).
LEVEL_RULES: Final = {
    "online": ("entièrement en ligne ou proactive", "partiellement en ligne", "non réalisable"),
    "accessibility": (
        "100 % de conformité et une déclaration",
        "de 50 % à 99 % et une déclaration",
        "moins de 50 %, ou aucune déclaration",
    ),
    "franceconnect": ("oui", "—", "non"),
    "dlnuf": ("0 ou 1 donnée redemandée", "2 à 4 données", "5 données ou plus"),
    "help": ("2 moyens de contact humain ou plus", "1 seul", "aucun"),
    "satisfaction": ("8 sur 10 ou plus", "de 5 à moins de 8", "moins de 5"),
    "performance": ("moins de 0,4 s", "de 0,4 à 0,8 s", "plus de 0,8 s"),
    "button": (
        "vu ces 7 jours",
        "vu sur une origine non enregistrée, ou plus depuis 7 jours",
        "jamais vu",
    ),
}
# A declaration older than this is flagged « plus d’un an » (the observatory is yearly at most).
STALE_AFTER: Final = dt.timedelta(days=365)
MAX_EVIDENCE: Final = 2000
MAX_DETAIL: Final = 2000
MAX_VOLUME: Final = 10**12


@dataclass(frozen=True)
class Rating:
    """An indicator's level and whether its goal is met (None: no goal, or not applicable)."""

    level: str
    goal_met: bool | None


NO_DATA: Final = Rating("no_data", None)


class InvalidValue(ValueError):
    """A declared value that cannot be stored; `code` names the message (`MESSAGES`)."""

    def __init__(self, code: str, field: str = "value") -> None:
        super().__init__(code)
        self.code = code
        self.field = field  # "value" or "detail"


# What is wrong with a value, in French and English (the console and the CSV import say it).
MESSAGES: Final = {
    "online": (
        "choisissez : not_online, partial, full ou proactive",
        "choose: not_online, partial, full or proactive",
    ),
    "rate": (
        "taux de conformité RGAA attendu : un nombre entier de 0 à 100",
        "RGAA conformity rate expected: a whole number from 0 to 100",
    ),
    "statement": (
        "déclaration d’accessibilité attendue : une adresse https://… ou « none »",
        "accessibility statement expected: an https://… address or “none”",
    ),
    "franceconnect": (
        "choisissez : yes, no ou not_applicable",
        "choose: yes, no or not_applicable",
    ),
    "dlnuf": (
        "nombre de données redemandées attendu : un entier de 0 à 50, ou not_applicable",
        "number of data asked again expected: a whole number from 0 to 50, or not_applicable",
    ),
    "help": (
        "moyens d’aide attendus parmi phone, email, chat, counter (séparés par des espaces), "
        "ou « none »",
        "help channels expected among phone, email, chat, counter (space-separated), or “none”",
    ),
    "share": (
        "part en ligne attendue : un pourcentage entier de 0 à 100",
        "online share expected: a whole percentage from 0 to 100",
    ),
    "volume": (
        "volume annuel attendu : un nombre entier positif",
        "yearly volume expected: a positive whole number",
    ),
    "too_long": (
        "texte trop long (2 000 caractères au plus)",
        "text too long (2,000 characters at most)",
    ),
}


def _french(message: str, **values: object) -> str:
    text = french_spacing(message)
    return text.format(**values) if values else text


def _whole(raw: str, low: int, high: int, code: str) -> str:
    text = raw.replace("\u202f", "").replace(" ", "").removesuffix("%")
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidValue(code)
    return str(int(text))


def normalise(indicator: str, value: str, detail: str = "") -> tuple[str, str]:
    """The stored form of a declared value (`value`, `detail`), or `InvalidValue`.

    An empty `value` means "not declared" and is returned as it is."""
    value, detail = value.strip(), detail.strip()
    if len(value) > MAX_DETAIL or len(detail) > MAX_DETAIL:
        raise InvalidValue("too_long")
    if indicator == "accessibility":
        # Either half may be declared alone: an audit without a statement yet, or the reverse.
        rate = _whole(value, 0, 100, "rate") if value else ""
        if detail and detail.lower() != NO_STATEMENT and not _is_url(detail):
            raise InvalidValue("statement", "detail")
        return rate, NO_STATEMENT if detail.lower() == NO_STATEMENT else detail
    if indicator == "help":
        channels = value.lower().replace(",", " ").split()
        if channels == [NO_HELP]:
            return NO_HELP, detail
        if any(c not in HELP_CHANNELS for c in channels):
            raise InvalidValue("help")
        return " ".join(c for c in HELP_CHANNELS if c in channels), detail
    if not value:
        return "", ""
    if indicator == "online":
        if value.lower() not in ONLINE_LEVELS:
            raise InvalidValue("online")
        return value.lower(), ""
    if indicator == "franceconnect":
        if value.lower() not in FRANCECONNECT_VALUES:
            raise InvalidValue("franceconnect")
        return value.lower(), ""
    if indicator == "dlnuf":
        if value.lower() == NOT_APPLICABLE:
            return NOT_APPLICABLE, ""
        return _whole(value, 0, 50, "dlnuf"), ""
    if indicator == "online_share":
        return _whole(value, 0, 100, "share"), ""
    if indicator == "yearly_volume":
        return _whole(value, 0, MAX_VOLUME, "volume"), ""
    raise KeyError(indicator)


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text


def rate_declared(indicator: str, value: str, detail: str = "") -> Rating:
    """The level of a declared value (already normalised), on the observatory's thresholds."""
    if indicator == "accessibility":
        if detail == NO_STATEMENT:
            return Rating("poor", False)
        if not value:
            return NO_DATA
        rate = int(value)
        if rate >= 100 and detail:
            return Rating("good", True)
        return Rating("to_improve" if rate >= 50 and detail else "poor", False)
    if not value:
        return NO_DATA
    if indicator == "online":
        level = {"full": "good", "proactive": "good", "partial": "to_improve"}.get(value, "poor")
        return Rating(level, level == "good")
    if indicator == "franceconnect":
        if value == "not_applicable":
            return NO_DATA
        return Rating("good", True) if value == "yes" else Rating("poor", False)
    if indicator == "dlnuf":
        if value == NOT_APPLICABLE:
            return NO_DATA
        asked = int(value)
        level = "good" if asked <= 1 else "to_improve" if asked <= 4 else "poor"
        return Rating(level, level == "good")
    if indicator == "help":
        count = 0 if value == NO_HELP else len(value.split())
        level = "good" if count >= 2 else "to_improve" if count == 1 else "poor"
        return Rating(level, level == "good")
    # Context figures (share online, yearly volume): the observatory sets no goal.
    return Rating("no_data", None) if not value else Rating("good", None)


def rate_satisfaction(score: float | None) -> Rating:
    """Satisfaction out of 10, published from the minimum count on (None below)."""
    if score is None:
        return NO_DATA
    level = "good" if score >= 8 else "to_improve" if score >= 5 else "poor"
    return Rating(level, level == "good")


def rate_button(state: str) -> Rating:
    """The button's state (`retour.coverage.BUTTON_STATES`) as an indicator."""
    if state == "live":
        return Rating("good", True)
    return Rating("poor" if state == "never" else "to_improve", False)


def rate_performance(median_ms: int | None) -> Rating:
    """Median page load (ms) as citizens' browsers measured it, on the observatory's
    thresholds for « Temps de chargement des pages » (0.4 s and 0.8 s)."""
    if median_ms is None:
        return NO_DATA
    level = "good" if median_ms < 400 else "to_improve" if median_ms <= 800 else "poor"
    return Rating(level, level == "good")


def is_stale(declared_at: dt.datetime | None, now: dt.datetime) -> bool:
    return declared_at is not None and now - declared_at > STALE_AFTER


def display(indicator: str, value: str, detail: str = "", _: Callable[..., str] = _french) -> str:
    """A declared value as people read it, through `_` (the console's translator)."""
    if indicator == "accessibility":
        rate = _("{rate} % de conformité", rate=value) if value else ""
        statement = _("sans déclaration d’accessibilité") if detail == NO_STATEMENT else ""
        return " — ".join(part for part in (rate, statement) if part)
    if not value:
        return ""
    if indicator == "online":
        return _(ONLINE_LABELS[value])
    if indicator == "franceconnect":
        return _(FRANCECONNECT_LABELS[value])
    if indicator == "dlnuf":
        if value == NOT_APPLICABLE:
            return _("Non applicable")
        if value in ("0", "1"):
            return _("{n} donnée redemandée", n=value)
        return _("{n} données redemandées", n=value)
    if indicator == "help":
        if value == NO_HELP:
            return _("Aucun moyen de joindre une personne")
        return ", ".join(_(HELP_CHANNEL_LABELS[c]) for c in value.split())
    if indicator == "online_share":
        return _("{n} %", n=value)
    return f"{int(value):,}".replace(",", "\u202f")
