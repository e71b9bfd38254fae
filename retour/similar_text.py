"""French text as the similarity index sees it: words, stems, pairs of words, hashed.

"Le bouton Valider ne fait rien à l'étape 3" becomes the stems `bouton valid fait rien etap`
(French stop words dropped, Snowball's French stemmer, accents folded after stemming) plus
each pair of neighbouring kept words (`etap 3`), so that "étape 3" counts for more than "étape"
and "3" apart. Numbers are kept only inside pairs: alone they say little. Each term is hashed
into `N_FEATURES` columns (scikit-learn's FeatureHasher): the index needs no vocabulary, so
a new word costs nothing and the index grows one row at a time.

`terms(text)` also gives, for each term, the words as the citizen wrote them ("étape 3"): the
reason shown beside a suggestion quotes those, never a stem.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

import numpy as np
import snowballstemmer
from sklearn.feature_extraction import FeatureHasher
from stop_words import get_stop_words

N_FEATURES: Final = 2**18
# Beyond this many characters a comment says nothing more for grouping (bounds the work).
TEXT_MAX: Final = 600
_WORD: Final = re.compile(r"[^\W_]+", re.UNICODE)
_stemmer = snowballstemmer.stemmer("french")
_hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)


def fold(word: str) -> str:
    """Lower case without accents: « Étape » → « etape »."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Folded, so that « a » and « à », « ete » and « été » are dropped alike; plus words that every
# report says (« bonjour », « merci ») and say nothing about the problem.
STOP_WORDS: Final = frozenset(fold(w) for w in get_stop_words("fr")) | {
    "bonjour",
    "merci",
    "cordialement",
    "madame",
    "monsieur",
    "svp",
    "fois",
    "faire",
    "fait",
    "peux",
    "peut",
    "veux",
}


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return fold(_stemmer.stemWord(word))


@lru_cache(maxsize=8192)
def terms(text: str) -> dict[str, str]:
    """Each term of `text` (stems, and pairs of neighbouring words) with its written words.
    Cached: an inbox page asks again for the rows it showed a moment ago. Do not mutate."""
    found: dict[str, str] = {}
    previous: tuple[str, str] | None = None
    for match in _WORD.finditer(text[:TEXT_MAX].casefold()):
        word = match.group()
        folded = fold(word)
        if folded in STOP_WORDS or (len(folded) < 2 and not folded.isdigit()):
            previous = None
            continue
        stem = folded if folded.isdigit() else _stem(word)
        if not folded.isdigit():
            found.setdefault(stem, word)
        if previous is not None:
            found.setdefault(f"{previous[0]} {stem}", f"{previous[1]} {word}")
        previous = (stem, word)
    return found


def hashed(documents: list[list[str]]) -> object:
    """The documents' terms as a sparse matrix (one row each, one column per hashed term)."""
    return _hasher.transform(documents)


def column(term: str) -> int:
    """The column a term is hashed into."""
    matrix = _hasher.transform([[term]])
    return int(np.asarray(matrix.indices)[0])
