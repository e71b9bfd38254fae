"""The slug rule for ministries: lower-case ASCII, each run of other characters one `-`."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

_OTHER: Final = re.compile(r"[^a-z0-9]+")
# Letters that NFKD does not split into a base letter and an accent.
_SPECIAL: Final = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})


@lru_cache(maxsize=1024)  # an import asks for the same few ministry names thousands of times
def slugify(name: str) -> str:
    """ "Ministère de l'Intérieur" → "ministere-de-l-interieur"; "" when nothing is left."""
    text = unicodedata.normalize("NFKD", name.lower().translate(_SPECIAL))
    # Drop only the accents: any other character (’, °, —) separates words like a space.
    bare = "".join(char for char in text if not unicodedata.combining(char))
    return _OTHER.sub("-", bare).strip("-")
