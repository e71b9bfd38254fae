"""E-mail addresses (plain and disguised) and French number plates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from retour.pii.scan import Scan, words
from retour.pii.spans import Span

# Every pattern starts with a lookbehind excluding its own first class, so a long run of
# word characters is tried once, not from each of its positions (no quadratic scans).
_LOCAL: Final = r"(?<![\w.+\-])[\w.+\-]+"
_LABEL: Final = r"[\w\-]+"
_WS: Final = r"[ \t\u00a0]{0,3}"
_AT: Final = rf"{_WS}(?:@|[(\[{{<]{_WS}(?i:at|arobase|@|a){_WS}[)\]}}>]|(?i:\barobase\b)){_WS}"
_DOT: Final = (
    rf"{_WS}(?:\.|[(\[{{<]{_WS}(?i:dot|point|\.){_WS}[)\]}}>]|(?i:\b(?:dot|point)\b)){_WS}"
)
# The first label is bounded (63, the longest DNS allows): in "arobase-arobase-…" each
# "arobase" is an "at", and an unbounded label after each read the rest of the word before
# finding no dot (25 ms for 2,000 characters, quadratic).
_EMAIL: Final = re.compile(rf"{_LOCAL}{_AT}(?P<domain>[\w\-]{{1,63}}(?:{_DOT}{_LABEL})+)")
_LABELS: Final = re.compile(_LABEL)
_PLAIN: Final = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A disguised address ("jean (at) exemple . fr") must end in a domain people really use,
# or "rendez-vous @ la mairie . Merci" would be masked.
TLDS: Final = words(
    "fr com net org eu info biz io me be ch lu mc ca de uk es it pt nl re gp mq gf yt pm "
    "nc pf wf bl mf ma dz tn sn ci cm edu gov co us"
)

# SIV plates (since 2009): two letters, three digits, two letters; I, O and U are never used.
_PLATE_LETTERS: Final = "[A-HJ-NP-TV-Z]"
_PLATE: Final = re.compile(
    rf"(?<![\w\-])(?:{_PLATE_LETTERS}{{2}}[ \-]?\d{{3}}[ \-]?{_PLATE_LETTERS}{{2}}"
    rf"|(?i:{_PLATE_LETTERS}{{2}}-\d{{3}}-{_PLATE_LETTERS}{{2}}))(?![\w\-])"
)


# Every address holds one of these where its "@" is: the pattern runs only around them,
# from 64 characters before (the longest local part) to 192 after.
_EMAIL_HINTS: Final = ("@", "arobase", "(", "[", "{", "<")


def find_emails(scan: Scan) -> Iterator[Span]:
    text = scan.text
    for match in scan.search_around(_EMAIL, _EMAIL_HINTS, before=64, after=192):
        scan.reads += match.end() - match.start()
        labels = list(_LABELS.finditer(text, *match.span("domain")))
        if _PLAIN.fullmatch(match.group()):
            tld = labels[-1].group()
            if len(tld) >= 2 and tld.isalpha():
                yield Span(match.start(), match.end(), "email")
            continue
        # Disguised: stop at the last label that is a known top-level domain.
        tlds = [label for label in labels[1:] if label.group().lower() in TLDS]
        if tlds:
            yield Span(match.start(), tlds[-1].end(), "email")


def find_plates(scan: Scan) -> Iterator[Span]:
    # A plate's three digits are a digit run of their own: start there, look back.
    for run in scan.runs:
        if run.end() - run.start() == 3:
            for back in (3, 2):
                plate = scan.match(_PLATE, run.start() - back) if run.start() >= back else None
                if plate:
                    yield Span(plate.start(), plate.end(), "plate")
                    break
