"""Sorting French names as people expect: accents, case and ligatures do not count.

Byte order puts "Ministère de l'Économie" after "Ministère de l'Intérieur" (É is U+00C9,
far beyond I). Neither SQLite nor every PostgreSQL collation sorts French correctly, and the
lists involved are short (ministries, one ministry's procedures), so we sort in Python:

    sorted(ministries, key=lambda m: french_key(m.name))
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Letters NFKD does not take apart, and the typographic apostrophe.
SPELLED_OUT: Final = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'"})


def french_key(text: str) -> tuple[str, str]:
    """A sort key: the text without accents nor case first, then the text itself to break ties
    (so "cote" and "côté" keep one stable order)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(SPELLED_OUT))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold(), text
