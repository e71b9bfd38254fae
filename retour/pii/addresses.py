"""Postal addresses: a number, a street type, the street's name, maybe a postcode and town."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from retour.pii.scan import Scan, words
from retour.pii.spans import Span

# Street types that are rarely anything else after a number ("12 rue", "3 bis avenue").
_CLEAR_TYPES: Final = (
    r"rue|avenue|av\.|bd\.?|bld\.?|boulevard|all[ée]e|chemin|impasse|quai|square|lotissement"
    r"|hameau|lieu-dit|chauss[ée]e|faubourg|esplanade|parvis|ruelle|venelle|mont[ée]e|rond-point"
)
# Words that are also ordinary nouns after a number ("3 cours de français", "2 place libres"):
# these count as a street only when a capitalised name follows.
_AMBIGUOUS_TYPES: Final = (
    r"place|route|cours|voie|passage|villa|cit[ée]|promenade|clos|traverse|sentier|sente"
    r"|r[ée]sidence"
)
# `\d` first, then a lookbehind on the character before it: Python scans for a leading
# character class quickly, and only numbers that start a word are street numbers.
_ADDRESS: Final = re.compile(
    r"\d(?<![\w,.]\d)\d{0,3}(?:[ ]?(?i:bis|ter|quater|[abt])(?![^\W_]))?,?[ \u00a0]{1,2}"
    rf"(?i:(?P<clear>{_CLEAR_TYPES})|(?P<ambiguous>{_AMBIGUOUS_TYPES}))(?![^\W_])"
)
_WORD: Final = re.compile(r"[ \u00a0]{1,2}((?:[dlDL]['’])?[^\W\d_][\w'’\-]*)")
_POSTCODE_TOWN: Final = re.compile(
    r",?[ \u00a0]{1,2}(?:\d{5}|\d{2}[ ]\d{3})(?!\d)(?:[ \u00a0]{1,2}[A-ZÀ-Ý][\w'’\-]*"
    r"(?:[ \-](?:sur|sous|en|lès|les|le|la|de|du|[A-ZÀ-Ý][\w'’\-]*)(?![^\W_])){0,4})?"
)
_PARTICLES: Final = words("de du des la le les l' d' aux au en sur sous saint sainte st ste")
# Words after which a street's name cannot go on ("12 rue de la Paix et je …").
_STOP: Final = words(
    "et ou mais donc car je j' il elle on nous vous ils elles qui que est a ai suis sont "
    "depuis pour avec sans chez dans à mon ma mes ne n' pas plus se s' y"
)
# Elided pronouns and negations start a clause, never a street name ("12 rue n'existe pas").
_ELIDED: Final = ("n'", "n’", "s'", "s’", "j'", "j’", "qu'", "qu’", "c'", "c’", "m'", "m’")
_MAX_NAME_WORDS: Final = 8


def find_addresses(scan: Scan) -> Iterator[Span]:
    for match in _ADDRESS.finditer(scan.text):
        end, capitalised = _street_name_end(scan, match.end())
        if end is None or (match.group("ambiguous") and not capitalised):
            continue
        town = scan.match(_POSTCODE_TOWN, end)
        yield Span(match.start(), town.end() if town else end, "address")


def _street_name_end(scan: Scan, position: int) -> tuple[int | None, bool]:
    end: int | None = None
    capitalised = False
    # Lower-case words are taken after the street type or a particle, two at most
    # ("rue victor hugo"); capitalised ones always.
    lower_allowance = 2
    for _ in range(_MAX_NAME_WORDS):
        word = scan.match(_WORD, position)
        if not word:
            break
        value = word.group(1)
        lowered = value.lower()
        if lowered in _STOP or lowered.startswith(_ELIDED):
            break
        if lowered in _PARTICLES:
            lower_allowance = 2
        elif value[0].isupper() or value[2:3].isupper():  # "d'Alsace"
            end, capitalised = word.end(), True
        elif lower_allowance:
            end = word.end()
            lower_allowance -= 1
        else:
            break
        position = word.end()
    return end, capitalised
