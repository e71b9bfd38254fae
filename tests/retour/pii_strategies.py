"""Generators of valid identifiers (correct keys) written with any spacing, for the
hypothesis properties and the browser/server agreement test."""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

# What people put between the digits of a number (retour.pii.scan.SEP).
NUMBER_SEPARATORS = ("", " ", "  ", ".", "-", " - ", "\u00a0", "\u202f", " .", "\u2009", "\u2013")
# IBANs are spaced or dashed, never dotted.
IBAN_SEPARATORS = ("", " ", "  ", "-", "\u00a0")
# What may stand between a number and the text around it.
BOUNDARIES = (" ", "\n", ", ", " : ", " (", ") ", "\t")


def nir_units(draw: Callable[[Sequence[str]], str]) -> list[str]:
    """A valid NIR as units (one character each, "2A"/"2B" as one unit)."""
    digits = lambda n: [draw(string.digits) for _ in range(n)]  # noqa: E731
    month = draw([f"{m:02d}" for m in (*range(1, 13), *range(20, 100))])
    department = draw(["2A", "2B", *[f"{d:02d}" for d in range(1, 100)]])
    head = [draw("12478"), *digits(2), *month, *(
        [department] if department in ("2A", "2B") else list(department)
    ), *digits(6)]  # fmt: skip
    body = "".join(head).replace("2A", "19").replace("2B", "18")
    key = f"{97 - int(body) % 97:02d}"
    return [*head, *key]


def luhn_complete(prefix: str) -> str:
    for check in string.digits:
        candidate = prefix + check
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


# (length, first digits) of card families that retour.pii.checksums.card_family accepts.
CARD_FAMILIES = (
    (16, "4"), (16, "51"), (16, "55"), (16, "2221"), (16, "6011"), (16, "35"), (15, "34"),
    (15, "37"), (14, "36"), (14, "30"), (13, "4"), (19, "4"), (18, "62"), (17, "5"),
)  # fmt: skip


def card_units(draw: Callable[[Sequence[str]], str]) -> list[str]:
    length, prefix = draw(CARD_FAMILIES)  # type: ignore[arg-type]
    body = prefix + "".join(draw(string.digits) for _ in range(length - len(prefix) - 1))
    return list(luhn_complete(body))


def iban_units(draw: Callable[[Sequence[str]], str]) -> list[str]:
    country = draw(string.ascii_uppercase) + draw(string.ascii_uppercase)
    length = draw(range(11, 31))
    # Account numbers are mostly digits; allow a few letters as in GB or FR accounts.
    bban = [draw(string.digits) for _ in range(length)]
    for _ in range(draw(range(0, min(4, length - 10)))):
        bban[draw(range(length))] = draw(string.ascii_uppercase)
    rearranged = "".join(bban) + country + "00"
    number = int("".join(str(int(char, 36)) for char in rearranged))
    check = f"{98 - number % 97:02d}"
    return [country, *check, *bban]  # the country code is never split


def spaced(
    units: list[str], separators: Sequence[str], draw: Callable[[Sequence[str]], str]
) -> str:
    return units[0] + "".join(draw(separators) + unit for unit in units[1:])


KINDS = {
    "nir": (nir_units, NUMBER_SEPARATORS),
    "card": (card_units, NUMBER_SEPARATORS),
    "iban": (iban_units, IBAN_SEPARATORS),
}


@st.composite
def written_phone(draw: st.DrawFn) -> str:
    """A French phone number as people write it: national groupings, +33, 0033, (0)."""
    national = draw(st.sampled_from("1234567 9")).strip() or "6"
    digits = national + "".join(draw(st.sampled_from(string.digits)) for _ in range(8))
    separator = draw(st.sampled_from(["", " ", ".", "-", "\u00a0"]))
    style = draw(st.sampled_from(["national", "+33", "+33 (0)", "0033"]))
    if style == "national":
        grouping = draw(st.sampled_from([(10,), (2, 2, 2, 2, 2), (4, 2, 2, 2), (2, 4, 4)]))
        number, groups = "0" + digits, []
        for size in grouping:
            groups.append(number[:size])
            number = number[size:]
        return separator.join(groups)
    pairs = [digits[0], *(digits[i : i + 2] for i in range(1, 9, 2))]
    prefix = {"+33": "+33", "+33 (0)": "+33 (0)", "0033": "0033"}[style]
    return prefix + (separator or " ") + separator.join(pairs)


surrounding_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
)


@st.composite
def written_number(draw: st.DrawFn, kind: str) -> str:
    make, separators = KINDS[kind]
    choose = lambda options: draw(st.sampled_from(list(options)))  # noqa: E731
    return spaced(make(choose), separators, choose)


def junk_texts(count: int, seed: int = 5) -> list[str]:
    """Short random strings of digits, separators, letters (some accented) and "@"."""
    rng = random.Random(seed)
    alphabet = "0123456789 .-+()@AaBbFRéx\n\u00a0"
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(5, 80))) for _ in range(count)
    ]


# Pieces of the texts built to be costly (tests/retour/test_redaction_cost.py).
COSTLY_PIECES = (
    "0", "1", "6", "00", "0033", "+33", "33", "262", "(0)", "FR76", "FR", "2A", "@", "a",
    " ", "  ", ".", "-", " - ", "\u00a0", "\u202f", "arobase", "point", "(at)", "x",
)  # fmt: skip
NUMBERS = (
    "06 12 34 56 78", "+33 6 12 34 56 78", "0033 6 12 34 56 78", "FR76 3000 6000 0112 3456 7890 189"
)  # fmt: skip


def costly_texts(count: int, seed: int = 20) -> list[str]:
    """Long texts of one short unit repeated, some with a real number inside or after."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        unit = "".join(rng.choice(COSTLY_PIECES) for _ in range(rng.randrange(1, 5)))
        text = unit * (rng.randrange(100, 2000) // len(unit))
        if rng.random() < 0.7:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(NUMBERS) + text[at:]
        texts.append(text[:2000])
    return texts


def sample_texts(count: int, seed: int = 20261123) -> list[str]:
    """Deterministic texts mixing valid and broken numbers, for the browser comparison."""
    rng = random.Random(seed)
    choose = lambda options: rng.choice(list(options))  # noqa: E731
    words = [
        "Bonjour",
        "mon",
        "numéro",
        "est",
        "merci",
        "le",
        "dossier",
        "tél",
        "IBAN",
        "€",
        "2024",
    ]
    texts = []
    for _ in range(count):
        kind = choose([*KINDS, "phone", "email"])
        if kind == "phone":
            number = choose(
                [
                    "06 12 34 56 78",
                    "+33 6 12 34 56 78",
                    "0033612345678",
                    "0712345678",
                    "+262 692 12 34 56",
                    "01.23.45.67.89",
                    "08 00 12 34 56",
                ]
            )
        elif kind == "email":
            number = choose(
                [
                    "jean@exemple.fr",
                    "a.b (at) orange . fr",
                    "x [at] y [dot] com",
                    "moi arobase free point fr",
                    "rdv @ la mairie . Merci",
                ]
            )
        else:
            make, separators = KINDS[kind]
            units = make(choose)
            if rng.random() < 0.3:  # break the key: must then not be reported
                index = rng.randrange(len(units))
                if units[index].isdigit():
                    units[index] = str((int(units[index]) + 1) % 10)
            number = spaced(units, separators, choose)
        before = " ".join(rng.choice(words) for _ in range(rng.randrange(4)))
        after = " ".join(rng.choice(words) for _ in range(rng.randrange(4)))
        texts.append(before + choose(BOUNDARIES) + number + choose(BOUNDARIES) + after)
    return texts
