"""Personal data recognised by the words around it: birth dates, names, file numbers.

These have no check digit, so they are masked only where the writer says what they are
(« née le … », « je m'appelle … », « dossier n° … »): a date or a number on its own is
the stuff of ordinary feedback and stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from retour.pii.scan import Scan, words
from retour.pii.spans import Span

_MONTHS: Final = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    "|d[ée]cembre|january|february|march|april|may|june|july|august|september|october"
    "|november|december"
)
_DATE: Final = (
    r"(?:\d{1,2}[ ]?[/.\-][ ]?\d{1,2}[ ]?[/.\-][ ]?(?:\d{4}|\d{2})(?!\d)"
    rf"|(?:1er|\d{{1,2}})[ \u00a0]+(?:{_MONTHS})[ \u00a0]+\d{{4}}(?!\d))"
)
_BIRTHDATE: Final = re.compile(
    r"(?i:\b(?:n[ée]e?s?[ \u00a0]+le|date[ \u00a0]+de[ \u00a0]+naissance|ddn|born(?:[ ]+on)?"
    r"|date[ ]+of[ ]+birth|birth[ ]?date))\b[ \u00a0]*(?::|=|-|est[ ]+le|est)?[ \u00a0]*"
)
_DATE_AFTER: Final = re.compile(_DATE, re.IGNORECASE)

# --- Names the writer gives for themselves ----------------------------------------------

_CIVILITY: Final = r"(?:M\.|Mr\.?|Mme\.?|Mlle\.?|Monsieur|Madame|Mademoiselle|Dr\.?)"
_NAME_TRIGGER: Final = re.compile(
    r"(?i:\bje[ ]+m['’][ ]?appelle|\bje[ ]+me[ ]+nomme"
    r"|\bmon[ ]+(?:nom|pr[ée]nom)[ ]+(?:est|c['’]est)"
    r"|\bmy[ ]+name[ ]+is|\b(?:nom|pr[ée]nom|nom[ ]+de[ ]+famille|nom[ ]+et[ ]+pr[ée]nom)[ ]?:"
    r"|\bsign[ée]e?[ ]?:)"
    rf"[ \u00a0]*(?:{_CIVILITY}[ \u00a0]*)?"
    rf"|(?i:\bje[ ]+suis[ ]+{_CIVILITY})[ \u00a0]*"
)
_CAPITALISED: Final = r"[A-ZÀ-Ý][\w'’\-]*"
# A sign-off closing the comment: « Cordialement, Jean Dupont »
_SIGNATURE: Final = re.compile(
    r"(?i:\b(?:cordialement|bien[ ]+(?:à|a)[ ]+vous|salutations(?:[ ]+distingu[ée]es)?"
    r"|sinc[èe]rement|merci(?:[ ]+d['’]avance|[ ]+par[ ]+avance)?))"
    rf"[ \t]*[,.!]?\s*(?P<name>{_CIVILITY}[ \u00a0]*{_CAPITALISED}"
    rf"(?:[ \u00a0]{_CAPITALISED}){{0,2}}|{_CAPITALISED}(?:[ \u00a0]{_CAPITALISED}){{1,3}})"
    r"[ \t]*[.!]?\s*\Z"
)
_WORD: Final = re.compile(r"[ \u00a0]?([^\W\d_][\w'’\-]*)")
_PARTICLES: Final = words("de du des d' la le van von der di da dos del")
# Words that end a name given after « je m'appelle » (French and English function words).
_STOP: Final = words(
    "je j' et ou mais donc or ni car que qui quoi quand comme si suis ai a est été sont "
    "un une les des au aux en dans sur sous pour par avec sans depuis chez ce cet cette "
    "ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs il elle ils "
    "elles on nous vous moi merci bonjour bonsoir cordialement habite habitant née né and "
    "i am my from madame monsieur mademoiselle usager usagère utilisateur utilisatrice "
    "citoyen citoyenne bonne journée soirée le la l' service équipe direction mairie "
    "préfecture pas plus ne n' mal bien déjà toujours encore trop très"
)
_NAME_MAX_WORDS: Final = 4

# --- File and reference numbers --------------------------------------------------------

# « n° », « réf. » may touch the number ("n°12345"); words may not ("LA123…" is no "la").
_NUMBERING_MARKS: Final = r"n°|nº|n[o°º]\.|num\.|r[ée]f\."
_NUMBERING_WORDS: Final = r"no|num[ée]ro|numero|num|r[ée]f[ée]rence|r[ée]f|identifiant"
_NUMBERING: Final = rf"(?:{_NUMBERING_MARKS}|(?:{_NUMBERING_WORDS})(?![^\W_]))"
_REFERENCE_NOUNS: Final = (
    r"dossier|demande|allocataire|fiscal|client|usager|suivi|t[ée]l[ée]d[ée]clarant|adh[ée]rent"
    r"|contrat|passeport|permis(?:[ ]+de[ ]+conduire)?|pension|retraite|caf|msa|ants"
    r"|france[ ]+travail|p[ôo]le[ ]+emploi|matricule|r[ée]clamation|recours|ticket|facture"
    r"|titre[ ]+de[ ]+s[ée]jour|[ée]tranger|agdref|avis|pr[ée]-?demande|r[ée]c[ée]piss[ée]"
    r"|r[ée]f[ée]rence|r[ée]f\.?|identifiant"
)
# Nouns that name the number by themselves; the others need « numéro », « n° », « réf ».
_SELF_NAMING: Final = frozenset(
    ("dossier", "allocataire", "fiscal", "matricule", "agdref", "référence", "reference",
     "réf", "ref", "réf.", "ref.", "identifiant")
)  # fmt: skip
_NIR_NOUNS: Final = r"s[ée]curit[ée][ ]+sociale|s[ée]cu|nir|carte[ ]+vitale|insee"
# Matched at the start of the word a keyword was found in; the value follows `after`.
_REFERENCE: Final = re.compile(
    rf"(?i:(?:(?P<nir>{_NIR_NOUNS})|(?P<noun>{_REFERENCE_NOUNS}))(?![^\W_])"
    rf"(?P<after>(?:[ \u00a0]*(?:{_NUMBERING_MARKS}|[:=\#]"
    rf"|(?:{_NUMBERING_WORDS}|est|c['’]est|le|la|suivant)(?![^\W_]))){{0,3}}))"
    r"[ \u00a0]*"
)
# « numéro de », « n° », « réf. » just before the noun.
_NUMBERING_BEFORE: Final = re.compile(
    rf"(?i:(?<![^\W_]){_NUMBERING}[ \u00a0]*(?:(?:de|du|d['’])[ \u00a0]*)?)\Z"
)
_NUMBERED_AFTER: Final = re.compile(r"(?i:n°|n[o°º]|num|r[ée]f)")
_VALUE_TOKEN: Final = re.compile(r"[0-9A-Z]++(?![^\W_])")
_VALUE_SEP: Final = re.compile(r"(?:[ ]?[.\-/][ ]?|[ \u00a0\u202f])(?=[0-9A-Z])")
_LOOKS_LIKE_DATE: Final = re.compile(r"\d{1,2}[ ]?[/.\-][ ]?\d{1,2}[ ]?[/.\-][ ]?\d{2,4}")
_MONEY_AFTER: Final = re.compile(r"[ \u00a0\u202f]*(?:€|eur\b|euros?\b)", re.IGNORECASE)
_REFERENCE_MIN_DIGITS: Final = 5
_NIR_MIN_DIGITS: Final = 13
# The shortest dates _DATE reads ("1/2/80", "1er mai 2024") hold four digits.
_DATE_MIN_DIGITS: Final = 4
_REFERENCE_MAX_LENGTH: Final = 40


_BIRTHDATE_KEYWORDS: Final = ("né", "ne le", "nee", "naissance", "ddn", "born", "birth")
_NAME_KEYWORDS: Final = ("appelle", "nomme", "nom", "name", "sign", "je suis")
_SIGNATURE_KEYWORDS: Final = ("cordialement", "vous", "salutations", "sincère", "sincere", "merci")
_SIGNATURE_TAIL: Final = 160
_REFERENCE_KEYWORDS: Final = (
    "dossier", "demande", "allocataire", "fiscal", "client", "usager", "suivi", "déclarant",
    "declarant", "adhérent", "adherent", "contrat", "passeport", "permis", "pension", "retraite",
    "caf", "msa", "ants", "travail", "emploi", "matricule", "clamation", "recours", "ticket",
    "facture", "séjour", "sejour", "tranger", "agdref", "avis", "cerfa", "piss", "sécu", "secu",
    "nir", "vitale", "insee", "réf", "ref", "identifiant",
)  # fmt: skip


def find_birthdates(scan: Scan) -> Iterator[Span]:
    if scan.digit_count < _DATE_MIN_DIGITS:
        return
    for trigger in scan.search_around(_BIRTHDATE, _BIRTHDATE_KEYWORDS, before=24, after=40):
        date = scan.match(_DATE_AFTER, trigger.end())
        if date:
            yield Span(date.start(), date.end(), "birthdate")


def find_names(scan: Scan) -> Iterator[Span]:
    text = scan.text
    for match in scan.search_around(_NAME_TRIGGER, _NAME_KEYWORDS, before=16, after=48):
        # « je m'appelle jean dupont » is a name whatever its case; after « mon nom est »,
        # « Nom : » or a civility only capitalised words are (« mon nom est mal écrit »).
        any_case = match.group().lower().startswith(("je m", "my"))
        end = _name_end(scan, match.end(), any_case=any_case)
        if end is not None:
            yield Span(match.end(), end, "name")
    tail = max(0, len(text) - _SIGNATURE_TAIL)
    if not any(keyword in scan.low[tail:] for keyword in _SIGNATURE_KEYWORDS):
        return
    scan.reads += len(text) - tail
    signature = _SIGNATURE.search(text, tail)
    if signature:
        name = signature.group("name")
        words = [word.strip(".").lower() for word in name.split()]
        if not any(word in _STOP for word in words):
            yield Span(*signature.span("name"), "name")


def _name_end(scan: Scan, position: int, *, any_case: bool) -> int | None:
    """Where the name that starts at `position` ends, or None if no name starts there.
    Particles ("de la") belong to it only when a name word follows them."""
    end = None
    for _ in range(_NAME_MAX_WORDS + 2):
        word = scan.match(_WORD, position)
        if not word:
            break
        value = word.group(1)
        lowered = value.lower()
        position = word.end()
        if lowered in _PARTICLES and end is not None:
            continue
        if lowered in _STOP or (len(value) < 2 and not value.isupper()):
            break
        if not (any_case or value[0].isupper()):
            break
        end = word.end()
    return end


def find_references(scan: Scan) -> Iterator[Span]:
    # A value's digits are ASCII ones (_VALUE_TOKEN), a subset of what digit_count counts.
    if scan.digit_count < _REFERENCE_MIN_DIGITS:
        return
    text = scan.text
    for start in scan.word_starts(_REFERENCE_KEYWORDS):
        match = scan.match(_REFERENCE, start)
        if not match:
            continue
        noun = (match.group("noun") or "").lower()
        numbered = bool(_NUMBERING_BEFORE.search(text, max(0, start - 24), start)) or bool(
            _NUMBERED_AFTER.search(match.group("after"))
        )
        if noun and noun not in _SELF_NAMING and not numbered:
            continue
        end = _value_end(scan, match.end())
        if end is None:
            continue
        value = text[match.end() : end]
        digits = sum(char.isdigit() for char in value)
        if match.group("nir"):
            if digits >= _NIR_MIN_DIGITS:
                yield Span(match.end(), end, "nir")
            continue
        if digits < _REFERENCE_MIN_DIGITS or _LOOKS_LIKE_DATE.fullmatch(value):
            continue
        if scan.match(_MONEY_AFTER, end):
            continue
        yield Span(match.end(), end, "reference")


def _value_end(scan: Scan, position: int) -> int | None:
    """End of a reference such as "2024123456", "AB-2024-00123" or "123 456 789"."""
    end = None
    limit = position + _REFERENCE_MAX_LENGTH
    while position < limit:
        token = scan.match(_VALUE_TOKEN, position)
        if not token:
            break
        end = position = token.end()
        separator = scan.match(_VALUE_SEP, position)
        if not separator:
            break
        position = separator.end()
    return end
