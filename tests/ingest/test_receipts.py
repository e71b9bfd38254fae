"""Receipt codes: short, unguessable, and forgiving of how people copy them."""

from __future__ import annotations

import re

import pytest

from retour.receipts import new_receipt, normalize_receipt


def test_receipts_are_formatted_and_distinct() -> None:
    receipts = {new_receipt() for _ in range(20_000)}
    assert len(receipts) == 20_000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", r) for r in receipts)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        pytest.param("7ckb4-q8jp6", "7CKB4-Q8JP6", id="lower-case"),
        pytest.param(" 7CKB4 Q8JP6 ", "7CKB4-Q8JP6", id="spaces"),
        pytest.param("7CKB4Q8JP6", "7CKB4-Q8JP6", id="no-dash"),
        pytest.param("OCKB4-I8LP6", "0CKB4-181P6", id="look-alikes"),
        pytest.param("7CKB4-Q8JP", None, id="too-short"),
        pytest.param("7CKB4-Q8JPU", None, id="not-in-alphabet"),
        pytest.param("<script>", None, id="hostile"),
    ],
)
def test_normalize_receipt(typed: str, canonical: str | None) -> None:
    assert normalize_receipt(typed) == canonical
