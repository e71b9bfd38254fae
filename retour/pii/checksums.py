"""Check digits of the identifiers we mask: they are what separates an IBAN from an amount."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Final

# NIR: sex, year, month, department (2A/2B in Corsica), commune, order, 2-digit key.
# Months 20-99 exist (unknown or fictitious months for people born abroad or undocumented).
_NIR_SHAPE: Final = re.compile(
    r"[1-478][0-9]{2}(?:0[1-9]|1[0-2]|[2-9][0-9])(?:[0-9]{2}|2[AB])[0-9]{8}"
)
# The key is computed as if 2A were 19 and 2B were 18 (INSEE rule).
_CORSICA: Final = {"2A": "19", "2B": "18"}


def nir_valid(compact: str) -> bool:
    """A 15-character NIR (digits, or 2A/2B in place of the department) with a correct key."""
    compact = compact.upper()
    if len(compact) != 15 or not _NIR_SHAPE.fullmatch(compact):
        return False
    body = compact[:5] + _CORSICA.get(compact[5:7], compact[5:7]) + compact[7:13]
    return 97 - int(body) % 97 == int(compact[13:])


# A digit's contribution to a Luhn sum when it is doubled (9 subtracted above 9).
_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        total += _DOUBLED[value] if index % 2 else value
    return total % 10 == 0


class LuhnSums:
    """The Luhn check of every stretch of one string of digits, each in constant time.

    The stretches of a digit run that are checked overlap: checking each afresh made a
    run of 1,000 spaced digits ("4 4 4 …") cost 6,000 checks of up to 19 digits (25 ms).
    The sums are made on the first check: most runs (phone numbers) never need one.
    """

    def __init__(self, digits: str) -> None:
        self._digits = digits
        self._sums: tuple[list[int], list[int]] | None = None

    def valid(self, start: int, end: int) -> bool:
        """Luhn on digits[start:end]: its last digit counts plain, and so does every digit
        of the same parity; the others count doubled."""
        if self._sums is None:
            self._sums = self._prefix_sums()
        sums = self._sums[(end - 1) % 2]
        return (sums[end] - sums[start]) % 10 == 0

    def _prefix_sums(self) -> tuple[list[int], list[int]]:
        # For each parity, the running Luhn sum with the digits at positions of that parity
        # counted plain and the others doubled. Non-digits count 0 (callers check that a
        # stretch is all digits before asking).
        plain = [ord(char) - 48 if "0" <= char <= "9" else 0 for char in self._digits]
        doubled = [_DOUBLED[value] for value in plain]
        even, odd = plain[:], doubled[:]
        even[1::2], odd[1::2] = doubled[1::2], plain[1::2]
        return list(accumulate(even, initial=0)), list(accumulate(odd, initial=0))


def card_family(digits: str) -> bool:
    """A length and first digits that a card issuer family actually uses (no Luhn)."""
    if not digits.isascii() or not digits.isdigit():
        return False
    length, first = len(digits), digits[0]
    if length == 16:
        return first in "23456"
    if length == 13:
        return first == "4"  # old Visa
    if length == 14:
        return digits[:2] in ("30", "36", "38", "39")  # Diners
    if length == 15:
        return digits[:2] in ("34", "37")  # American Express
    return 17 <= length <= 19 and first in "456"  # Visa, Maestro, UnionPay


# Letters count as 10 (A) to 35 (Z) in the mod-97 check.
_LETTER_VALUES: Final = {ord(letter): str(value) for value, letter in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", start=10)}  # fmt: skip


def iban_valid(compact: str) -> bool:
    """Any country's IBAN: two letters, two check digits, 11 to 30 more characters, mod 97 = 1."""
    compact = compact.upper()
    if not (15 <= len(compact) <= 34 and compact.isascii() and compact.isalnum()):
        return False
    if not (compact[:2].isalpha() and compact[2:4].isdigit()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int(rearranged.translate(_LETTER_VALUES)) % 97 == 1
