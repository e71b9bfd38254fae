"""French first, English available: French source strings translated through JSON catalogs.

Each package keeps `locales/en.json`, a mapping from the French text to its English
text. A string missing from a catalog falls back to French, never to an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Final

from retour.typography import french_spacing

LOCALES: Final = ("fr", "en")
DEFAULT_LOCALE: Final = "fr"

Translate = Callable[..., str]


@cache
def _catalog(locales_dir: str, locale: str) -> dict[str, str]:
    path = Path(locales_dir) / f"{locale}.json"
    if not path.is_file():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translator(locale: str, locales_dirs: Iterable[Path]) -> Translate:
    """A function `_("Texte", **values)` that answers in `locale`.

    French text (the source, or the fallback of a missing translation) gets its no-break
    spaces before « : ; ? ! » here, before the values are filled in: our words follow French
    typography, what people typed is shown as they typed it."""
    merged: dict[str, str] = {}
    if locale != DEFAULT_LOCALE:
        for directory in locales_dirs:
            merged.update(_catalog(str(directory), locale))

    def translate(message: str, **values: object) -> str:
        text = merged.get(message)
        if text is None:
            text = french_spacing(message)
        return text.format(**values) if values else text

    return translate


def negotiate(query_value: str | None, accept_language: str | None) -> str:
    """`?lang=` first, then the browser's Accept-Language, then French."""
    if query_value in LOCALES:
        return query_value
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE
