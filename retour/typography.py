"""French typography: a narrow no-break space before « : ; ? ! » and inside « », the one home
of that rule for every page, email and the widget's texts.

A plain space there lets a line break leave « ? » or « : » alone at the start of a line. The
rule only turns the spaces already written into no-break ones: it never adds a space, so an
English text (no space before its punctuation) goes through unchanged.

    french_spacing("Démarche : « Carte » ?")  -> "Démarche\u202f: «\u202fCarte\u202f»\u202f?"
    french_spacing_in_js(source)              -> the same rule in every string literal of a
                                                 script (widget/src/texts.js, at build time)
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# The narrow no-break space, as the importer's messages and the figures' thousands already use.
NARROW_NBSP: Final = "\u202f"
# Ordinary spaces (not line breaks: a text that wraps there on purpose keeps it).
_BEFORE: Final = re.compile(r"[ \u00a0]+(?=[:;?!»])")
_AFTER: Final = re.compile(r"(?<=«)[ \u00a0]+")
# A script's comments and string literals, left to right: comments are skipped (they may hold
# an apostrophe), strings are rewritten. Enough for the widget's texts (no regex literals).
_JS_TOKENS: Final = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"", re.DOTALL
)


@lru_cache(maxsize=4096)  # pages ask for the same few hundred messages again and again
def french_spacing(text: str) -> str:
    if " " not in text and "\u00a0" not in text:
        return text
    return _AFTER.sub(NARROW_NBSP, _BEFORE.sub(NARROW_NBSP, text))


def french_spacing_in_js(source: str) -> str:
    def rewrite(match: re.Match[str]) -> str:
        token = match.group(0)
        if token[0] not in "'\"":
            return token
        return token[0] + french_spacing(token[1:-1]) + token[-1]

    return _JS_TOKENS.sub(rewrite, source)
