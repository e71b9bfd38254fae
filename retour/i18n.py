"""French first, English available: French source strings translated through JSON catalogs.

Each package keeps `locales/en.json`, a mapping from the French text to its English
text. A string missing from a catalog falls back to French, never to an error.

Counts agree in number, in both languages, through one helper, never with a bracketed plural:

    plural = plural_translator(locale, dirs)
    plural("{n} retour modifié.", "{n} retours modifiés.", 10)  -> "10 retours modifiés."

French takes the singular for 0 and 1, English for 1 only. An English catalog holds a plural
under the French singular, as a list `["{n} item changed.", "{n} items changed."]`.
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
# plural(singular, plural, count, **values): `n` is the count unless given among the values.
Plural = Callable[..., str]


@cache
def _catalog(locales_dir: str, locale: str) -> dict[str, str | list[str]]:
    path = Path(locales_dir) / f"{locale}.json"
    if not path.is_file():
        return {}
    data: dict[str, str | list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _merged(locale: str, locales_dirs: Iterable[Path]) -> dict[str, str | list[str]]:
    merged: dict[str, str | list[str]] = {}
    if locale != DEFAULT_LOCALE:
        for directory in locales_dirs:
            merged.update(_catalog(str(directory), locale))
    return merged


def is_singular(locale: str, count: int) -> bool:
    """French says « 0 retour », « 1 retour »; English "0 items", "1 item"."""
    return count in (0, 1) if locale == DEFAULT_LOCALE else count == 1


def translator(locale: str, locales_dirs: Iterable[Path]) -> Translate:
    """A function `_("Texte", **values)` that answers in `locale`.

    French text (the source, or the fallback of a missing translation) gets its no-break
    spaces before « : ; ? ! » here, before the values are filled in: our words follow French
    typography, what people typed is shown as they typed it."""
    merged = _merged(locale, locales_dirs)

    def translate(message: str, **values: object) -> str:
        text = merged.get(message)
        if not isinstance(text, str):
            text = french_spacing(message)
        return text.format(**values) if values else text

    return translate


def plural_translator(locale: str, locales_dirs: Iterable[Path]) -> Plural:
    """A function `plural("{n} retour", "{n} retours", count, **values)` that answers in
    `locale`, in the form its count asks for (French source, typography as `translator`)."""
    merged = _merged(locale, locales_dirs)

    def plural(singular: str, many: str, count: int, **values: object) -> str:
        forms = merged.get(singular)
        if isinstance(forms, list) and len(forms) == 2:
            text = forms[0] if is_singular(locale, count) else forms[1]
        else:
            text = french_spacing(singular if is_singular(DEFAULT_LOCALE, count) else many)
        return text.format(**{"n": count, **values})

    return plural


def negotiate(query_value: str | None, accept_language: str | None) -> str:
    """`?lang=` first, then the browser's Accept-Language, then French."""
    if query_value in LOCALES:
        return query_value
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE
