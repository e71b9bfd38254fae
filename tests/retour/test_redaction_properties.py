"""Properties of masking (hypothesis): valid numbers never get through, output stays bounded,
masking twice changes nothing, and adversarial inputs finish."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from retour.pii import find
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
