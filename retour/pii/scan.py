"""What every finder needs from a text, computed once: its lower-case twin and digit runs.

Python's `re` tries a pattern at every position, and a case-insensitive alternation of
keywords costs about a microsecond a character; on a 2,000-character comment that alone
would eat the 1 ms budget several times over. So finders that depend on words locate
their keywords with `str.find` on the lower-cased text first and run their pattern only
in a window around each hit; finders of numbers start from the digit runs.
"""

from __future__ import annotations

import re
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

    def __post_init__(self) -> None:
        low = self.text.lower()
        if len(low) != len(self.text):  # "İ" lower-cases to two characters
            low = "".join(char.lower()[0] for char in self.text)
        self.low = low
        self.runs = list(DIGIT_RUN.finditer(self.text))
        self.digit_count = sum(map(len, _DIGITS.findall(self.text))) if self.runs else 0

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
        starts = set()
        for keyword in keywords:
            position = low.find(keyword)
            while position >= 0:
                start = position
                while start > 0 and low[start - 1].isalpha():
                    start -= 1
                starts.add(start)
                position = low.find(keyword, position + 1)
        return sorted(starts)

    def search_around(
        self, pattern: re.Pattern[str], keywords: Iterable[str], *, before: int, after: int
    ) -> Iterator[re.Match[str]]:
        """Matches of a pattern near its keywords. The window must hold the whole match
        (the text is cut at its end); what follows a trigger is read from the full text."""
        for low, high in self.windows(keywords, before=before, after=after):
            yield from pattern.finditer(self.text, low, high)


def words(text: str) -> frozenset[str]:
    """A set of words written as one string, for readable word lists."""
    return frozenset(text.split())


def groups_of(text: str, start: int, stop: int) -> list[re.Match[str]]:
    """The letter-or-digit groups between two positions (separators dropped)."""
    return list(_GROUP.finditer(text, start, stop))
