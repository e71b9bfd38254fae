"""Properties of masking (hypothesis): valid numbers never get through, output stays bounded,
masking twice changes nothing, and adversarial inputs finish."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from retour.pii import find
from retour.pii.checksums import LuhnSums, luhn_valid
from retour.pii.context import find_birthdates, find_references
from retour.pii.scan import Scan
from retour.redaction import MASK_GROWTH_BOUND, mask
from tests.retour.pii_strategies import (
    BOUNDARIES,
    surrounding_text,
    written_number,
    written_phone,
)

boundary = st.sampled_from(BOUNDARIES)


def assert_covered(text: str, start: int, end: int) -> None:
    spans = find(text)
    covered = {i for span in spans for i in range(span.start, span.end)}
    missing = [i for i in range(start, end) if i not in covered and text[i].isalnum()]
    assert not missing, (text, spans)


def check_never_survives(number: str, before: str, left: str, right: str, after: str) -> None:
    text = before + left + number + right + after
    start = len(before + left)
    assert_covered(text, start, start + len(number))
    assert number not in mask(text).text


@settings(max_examples=200, deadline=None)
@given(written_number("nir"), surrounding_text, boundary, boundary, surrounding_text)
def test_a_valid_nir_never_survives(
    number: str, before: str, left: str, right: str, after: str
) -> None:
    check_never_survives(number, before, left, right, after)


@settings(max_examples=200, deadline=None)
@given(written_number("iban"), surrounding_text, boundary, boundary, surrounding_text)
def test_a_valid_iban_never_survives(
    number: str, before: str, left: str, right: str, after: str
) -> None:
    check_never_survives(number, before, left, right, after)


@settings(max_examples=200, deadline=None)
@given(written_number("card"), surrounding_text, boundary, boundary, surrounding_text)
def test_a_valid_card_never_survives(
    number: str, before: str, left: str, right: str, after: str
) -> None:
    check_never_survives(number, before, left, right, after)


@settings(max_examples=200, deadline=None)
@given(written_phone(), surrounding_text, boundary, boundary, surrounding_text)
def test_a_french_phone_number_never_survives(
    number: str, before: str, left: str, right: str, after: str
) -> None:
    check_never_survives(number, before, left, right, after)


@settings(deadline=None)
@given(written_number("nir"))
def test_a_valid_nir_alone_is_reported_as_nir(number: str) -> None:
    assert mask(number).categories == {"nir"}


@settings(deadline=None)
@given(written_number("iban"))
def test_a_valid_iban_alone_is_reported_as_iban(number: str) -> None:
    assert mask(number).categories == {"iban"}


pii_text = st.lists(
    st.one_of(
        surrounding_text,
        written_number("nir"),
        written_number("iban"),
        written_number("card"),
        st.sampled_from(
            [
                "a@b.fr", "jean (at) orange . fr", "06 12 34 56 78", "+33 6 12 34 56 78",
                "AB-123-CD", "1 rue a", "12 bis avenue Foch, 75016 Paris", "né le 1/1/80",
                "je m'appelle Al", "dossier n° 12345", "Cordialement, Jean Dupont",
                "numéro de sécu 1234567890123", " ", "\n", "1", "@", ".",
            ]
        ),
    ),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(pii_text)
def test_masked_text_grows_at_most_by_a_constant_factor(text: str) -> None:
    assert len(mask(text).text) <= MASK_GROWTH_BOUND * len(text)


@settings(max_examples=200, deadline=None)
@given(pii_text)
def test_masking_is_idempotent(text: str) -> None:
    once = mask(text).text
    assert mask(once).text == once


@settings(deadline=None)
@given(st.text(max_size=300))
def test_any_text_masks_without_error_and_idempotently(text: str) -> None:
    once = mask(text).text
    assert mask(once).text == once
    assert len(once) <= MASK_GROWTH_BOUND * len(text)


# Words that wake the context finders, and digits few enough to trip their digit guards.
guard_text = st.lists(
    st.one_of(
        surrounding_text,
        st.sampled_from(
            [
                "dossier n° ", "numéro allocataire ", "réf. ", "sécu ", "né le ", "née le ",
                "dossier n° 12345", "né le 1/1/80", "réf. AB-12-345",
                "date de naissance : ", "1er mai ", "1/2/80", "12/05/1980", "1234", "12345",
                "2A", "٣", "１２", " ", "/", "-", "1", "0", "mai ", "AB",
            ]
        ),
    ),
    max_size=10,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(guard_text)
@example("dossier n° 12345")  # the fewest digits a reference has
@example("réf. A1-2-3-4-5")
@example("née le 1/2/80")  # the fewest digits a date has
@example("né le 1er mai 2024")
def test_digit_guards_skip_only_texts_the_finders_would_find_nothing_in(text: str) -> None:
    # The guards (too few digits for a date or a reference) must change no result: the
    # same finders, with the digit count forced high, find exactly the same spans.
    guarded = Scan(text)
    unguarded = Scan(text)
    unguarded.digit_count = 10**6
    for finder in (find_birthdates, find_references):
        assert list(finder(guarded)) == list(finder(unguarded)), (finder.__name__, text)


@settings(deadline=None)
@given(st.text(alphabet="0123456789A", min_size=1, max_size=40))
def test_luhn_sums_check_every_stretch_as_luhn_does(digits: str) -> None:
    # The run's prefix sums must give the check of every stretch that only digits fill.
    sums = LuhnSums(digits)
    for start in range(len(digits)):
        for end in range(start + 1, len(digits) + 1):
            if digits[start:end].isdigit():
                assert sums.valid(start, end) == luhn_valid(digits[start:end]), (start, end)
