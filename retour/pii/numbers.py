"""Numbers with a shape and a check digit: NIR, IBAN, payment cards, French phone numbers.

People space numbers as they like ("06 12 34 56 78", "0612345678", "1 85 05 78 006 084 36"),
so a run of digits joined by at most one separator is read as groups, and every stretch of
whole groups with the right length is checked. Checking only stretches that start and end
at a group boundary is what keeps a chance Luhn match inside a longer number from counting,
and checksums are what keep amounts, dates and counts unmasked.

`widget/src/pii.js` mirrors this module; keep them in step (tests/fixtures/pii_cases.json).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from retour.pii.checksums import LuhnSums, card_family, iban_valid, nir_valid
from retour.pii.scan import DIGIT_RUN, SEP, Scan
from retour.pii.spans import Span

# An IBAN from its first letter: 2 letters, 2 digits, then 11 to 30 letters or digits,
# spaced or dashed (IBANs are written in groups of four, never with dots).
_IBAN_SEP: Final = "(?:[ \u00a0\u202f]{1,2}|-)?"
_IBAN: Final = re.compile(
    rf"(?<![^\W_])[A-Za-z]{{2}}{_IBAN_SEP}[0-9]{_IBAN_SEP}[0-9]"
    rf"(?:{_IBAN_SEP}[0-9A-Za-z]){{11,30}}+"
)
_IBAN_HEAD: Final = re.compile(rf"(?<![^\W_])[A-Za-z]{{2}}{_IBAN_SEP}\Z")
# Account numbers are mostly digits: fewer than this many and mod 97 is not even tried.
_IBAN_MIN_DIGITS: Final = 8
# Calling codes of France and its overseas departments and territories, with the length
# of the national number that follows (without the trunk 0).
INTERNATIONAL: Final = {
    "33": 9, "262": 9, "269": 9, "590": 9, "594": 9, "596": 9,
    "508": 6, "681": 6, "687": 6, "689": 8,
}  # fmt: skip
# The calling code (and a "(0)" people add); the national number is the digit run after it.
_DOUBLE_ZERO: Final = re.compile(r"(?<![^\W_])00")
_INTERNATIONAL_PREFIX: Final = re.compile(
    rf"(?:\+|(?<![^\W_])00){SEP}(33|262|269|590|594|596|508|681|687|689)(?:{SEP}\(0\))?{SEP}"
)
# How far after the calling code a national number is read. Deciding needs at most 11
# characters of groups (9 digits, a trunk 0, one more to see it is too long), and a
# separator is at most 3 characters, so 64 always holds them: the decision is the one the
# whole run would give, and a run of "0033-0033-…" costs 64 characters per "00", not the
# rest of the run for each (quadratic: 64 ms for 2,000 characters).
_NATIONAL_READ: Final = 64
# Lengths worth checking, by first digit: phones start with 0, NIRs with 1, 2, 4, 7 or 8,
# cards with 2 to 6 (see _classify and checksums.card_family). Skipping the others keeps a
# long run of digits cheap.
_LENGTHS_BY_FIRST: Final = {
    "0": (10,), "1": (15,), "2": (15, 16), "3": (14, 15, 16), "4": (13, 15, 16, 17, 18, 19),
    "5": (16, 17, 18, 19), "6": (16, 17, 18, 19), "7": (15,), "8": (15,),
}  # fmt: skip
# How people group the ten digits of a phone number ("06 12 34 56 78", "0612 34 56 78"…).
# Other groupings ("1 85 05 78 006 084 92", "10.0.19045.3803") are other numbers.
PHONE_GROUPINGS: Final = frozenset(("10", "2-2-2-2-2", "4-2-2-2", "2-4-4", "4-3-3", "4-6", "2-8"))


def find_numbers(scan: Scan) -> Iterator[Span]:
    text = scan.text
    plus = "+" in text
    for run in scan.runs:
        start = run.start()
        if run.end() - start >= 10:
            yield from _windows(scan, run)
        # An IBAN starts two letters (and maybe a separator) before its first digit.
        scan.reads += 4
        head = _IBAN_HEAD.search(text, max(0, start - 4), start)
        if head:
            iban = scan.match(_IBAN, head.start())
            if iban:
                yield from _iban(scan, iban)
        # International numbers: "+33 6…", "0033 6…".
        if plus:
            for back in (1, 2, 3):
                if start - back >= 0 and text[start - back] == "+":
                    yield from _international(scan, start - back)
                    break
        # "0033" may start any group of a run ("reçu 2 fois 0033 6…").
        scan.reads += run.end() - start
        for zeros in _DOUBLE_ZERO.finditer(text, start, run.end()):
            yield from _international(scan, zeros.start())


def _windows(scan: Scan, run: re.Match[str]) -> Iterator[Span]:
    groups = scan.groups(run.start(), run.end())
    compact = "".join(group.group() for group in groups)
    # offset in `compact` where each group starts, and where each group ends -> its index
    starts: list[int] = []
    ends: dict[int, int] = {}
    offset = 0
    for index, group in enumerate(groups):
        starts.append(offset)
        offset += len(group.group())
        ends[offset] = index
    luhn = LuhnSums(compact)
    for first, begin in enumerate(starts):
        for length in _LENGTHS_BY_FIRST.get(compact[begin], ()):
            last = ends.get(begin + length)
            if last is not None:
                category = _classify(compact, begin, begin + length, luhn)
                if category == "phone":
                    grouping = "-".join(str(len(g.group())) for g in groups[first : last + 1])
                    category = category if grouping in PHONE_GROUPINGS else None
                if category:
                    yield Span(groups[first].start(), groups[last].end(), category)


def _classify(compact: str, begin: int, end: int, luhn: LuhnSums) -> str | None:
    """What the stretch compact[begin:end] of a run's characters is, if anything."""
    length = end - begin
    if length == 10:
        window = compact[begin:end]
        # 08: the administration's own service numbers, never a citizen's.
        is_phone = window.isascii() and window.isdigit() and window[1] in "12345679"
        return "phone" if is_phone and window[0] == "0" else None
    if length == 15 and nir_valid(compact[begin:end]):
        return "nir"
    # Luhn first: from the run's sums it costs no slice, and it turns down 9 stretches in 10.
    if luhn.valid(begin, end) and card_family(compact[begin:end]):
        return "card"
    return None


def _iban(scan: Scan, match: re.Match[str]) -> Iterator[Span]:
    text = scan.text
    # The match may stop inside a group; that group's end only counts if the text's does.
    closed = match.end() == len(text) or not text[match.end()].isalnum()
    groups = scan.groups(match.start(), match.end())
    compact = ""
    digits = 0
    for index, group in enumerate(groups):
        if index == len(groups) - 1 and not closed:
            break
        compact += group.group()
        digits += sum(map(str.isdigit, group.group()))
        if len(compact) < 15 or digits < _IBAN_MIN_DIGITS + 4:
            continue
        if iban_valid(compact):
            yield Span(match.start(), group.end(), "iban")


def _international(scan: Scan, start: int) -> Iterator[Span]:
    prefix = scan.match(_INTERNATIONAL_PREFIX, start)
    run = prefix and scan.match(DIGIT_RUN, prefix.end(), prefix.end() + _NATIONAL_READ)
    if not (prefix and run):
        return
    expected = INTERNATIONAL[prefix.group(1)]
    digits = ""
    # The national number is the first whole groups holding the right number of digits
    # ("+33 6 12 34 56 78 90": the 9 digits before " 90").
    for group in scan.groups(run.start(), run.end()):
        digits += group.group()
        national = digits[1:] if digits.startswith("0") else digits  # "+33 06…": a trunk 0
        if len(national) >= expected:
            valid = digits.isascii() and digits.isdigit() and national[0] != "0"
            if len(national) == expected and valid:
                yield Span(start, group.end(), "phone")
            return
