"""What every finder needs from a text, computed once: its lower-case twin and digit runs.

Python's `re` tries a pattern at every position, and a case-insensitive alternation of
keywords costs about a microsecond a character; on a 2,000-character comment that alone
would eat the 1 ms budget several times over. So finders that depend on words locate
their keywords with `str.find` on the lower-cased text first and run their pattern only
in a window around each hit; finders of numbers start from the digit runs.

The cost must stay linear in the text's length whatever the text, since anyone can send
2,000 characters built to be slow. The passes over the whole text are a fixed number, and
each pattern they run reads every position a bounded number of times (a leading
lookbehind on the pattern's own first class, bounded or possessive quantifiers). What
depends on the text is the work per candidate (a digit run, a keyword, a "00"): finders
read candidates through `Scan.match` and `Scan.groups`, which count the characters read
in `Scan.reads`, and tests/retour/test_redaction_cost.py asserts that count stays within a
constant times the text's length on adversarial texts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

# Between two digits: up to two spaces (incl. the no-break spaces French typography puts in
# numbers), or one dot or dash with at most one space either side. Never a newline or comma.
_SPACE: Final = "[ \u00a0\u2009\u202f]"
SEP: Final = f"(?:{_SPACE}{{1,2}}|{_SPACE}?[.\\-\u2010\u2011\u2013]{_SPACE}?)?"
# A run of digit groups. Corsica's "2A"/"2B" NIR department may sit inside one.
DIGIT_RUN: Final = re.compile(rf"\d(?:{SEP}\d|(?<=2)[AaBb])*+")
_GROUP: Final = re.compile(r"[^\W_]+")
_DIGITS: Final = re.compile(r"\d+")


@dataclass
class Scan:
    text: str
    low: str = field(init=False)
    runs: list[re.Match[str]] = field(init=False)
    # How many decimal digits (what `\d` matches) the text holds: finders whose data needs
    # more digits than that skip the text without looking for their keywords.
    digit_count: int = field(init=False)
    # Characters read from candidates (see the module's docstring); for tests and bench.
    reads: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        low = self.text.lower()
        if len(low) != len(self.text):  # "İ" lower-cases to two characters
            low = "".join(char.lower()[0] for char in self.text)
        self.low = low
        self.runs = list(DIGIT_RUN.finditer(self.text))
        self.digit_count = sum(map(len, _DIGITS.findall(self.text))) if self.runs else 0

    def match(
        self, pattern: re.Pattern[str], pos: int, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        """`pattern.match` at a candidate's position, counting what it read."""
        found = pattern.match(self.text, pos, endpos)
        self.reads += 1 + (found.end() - pos if found else 0)
        return found

    def groups(self, start: int, stop: int) -> list[re.Match[str]]:
        """The letter-or-digit groups between two positions, counting what they span."""
        self.reads += stop - start
        return groups_of(self.text, start, stop)

    def windows(
        self, keywords: Iterable[str], *, before: int, after: int
    ) -> Iterator[tuple[int, int]]:
        """Stretches of the text around each occurrence of a keyword, merged when they touch."""
        spots = []
        for keyword in keywords:
            position = self.low.find(keyword)
            while position >= 0:
                spots.append(position)
                position = self.low.find(keyword, position + 1)
        spots.sort()
        start = stop = -1
        for spot in spots:
            low, high = max(0, spot - before), min(len(self.text), spot + after)
            if low <= stop:
                stop = max(stop, high)
                continue
            if stop >= 0:
                yield start, stop
            start, stop = low, high
        if stop >= 0:
            yield start, stop

    def word_starts(self, keywords: Iterable[str]) -> list[int]:
        """Start of each word holding a keyword ("clamation" -> "réclamation"), once each."""
        low = self.low
        hits = set()
        for keyword in keywords:
            position = low.find(keyword)
            while position >= 0:
                hits.add(position)
                position = low.find(keyword, position + 1)
        # Walking back from each hit, in order, stops at the previous one: a long word full
        # of keywords ("cafcafcaf…") is walked once, not once per keyword in it.
        starts: list[int] = []
        previous = -1
        for position in sorted(hits):
            start = position
            while start > previous + 1 and low[start - 1].isalpha():
                start -= 1
            self.reads += 1 + position - start
            if start == previous + 1 and previous >= 0 and low[previous].isalpha():
                start = starts[-1]  # the previous hit's word goes on up to this one
            if not starts or starts[-1] != start:
                starts.append(start)
            previous = position
        return starts

    def search_around(
        self, pattern: re.Pattern[str], keywords: Iterable[str], *, before: int, after: int
    ) -> Iterator[re.Match[str]]:
        """Matches of a pattern near its keywords. The window must hold the whole match
        (the text is cut at its end); what follows a trigger is read from the full text."""
        for low, high in self.windows(keywords, before=before, after=after):
            self.reads += high - low
            yield from pattern.finditer(self.text, low, high)


def words(text: str) -> frozenset[str]:
    """A set of words written as one string, for readable word lists."""
    return frozenset(text.split())


def groups_of(text: str, start: int, stop: int) -> list[re.Match[str]]:
    """The letter-or-digit groups between two positions (separators dropped)."""
    return list(_GROUP.finditer(text, start, stop))
