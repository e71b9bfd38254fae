"""widget/src/pii.js in Chromium agrees with the server on every shared case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from retour.redaction import BROWSER_CATEGORIES, browser_categories, mask
from tests.retour.pii_strategies import costly_texts, junk_texts, sample_texts

ROOT = Path(__file__).resolve().parents[2]
PII_JS = ROOT / "widget" / "src" / "pii.js"
CASES = json.loads((ROOT / "tests" / "fixtures" / "pii_cases.json").read_text(encoding="utf-8"))[
    "cases"
]


def expected_in_browser(case: dict[str, Any]) -> list[str]:
    return sorted(case.get("browser", set(case["categories"]) & BROWSER_CATEGORIES))


@pytest.fixture
def detect(page: Any) -> Any:
    page.set_content("<!doctype html><html lang='fr'><title>pii</title><body></body></html>")
    page.add_script_tag(path=str(PII_JS))

    def run(texts: list[str]) -> list[list[str]]:
        result: list[list[str]] = page.evaluate("texts => texts.map(retourPii.detect)", texts)
        return result

    return run


def test_browser_reports_what_the_server_finds_on_every_shared_case(detect: Any) -> None:
    found = detect([case["text"] for case in CASES])
    disagreements = {
        case["id"]: {"browser": got, "server": sorted(browser_categories(case["text"]))}
        for case, got in zip(CASES, found, strict=True)
        if got != expected_in_browser(case) or got != sorted(browser_categories(case["text"]))
    }
    assert disagreements == {}


def test_browser_and_server_agree_on_generated_numbers(detect: Any) -> None:
    # Valid and invalid numbers in many spacings, beyond the hand-written table.
    texts = sample_texts(1000) + junk_texts(2000)
    found = detect(texts)
    disagreements = [
        (text, got, sorted(browser_categories(text)))
        for text, got in zip(texts, found, strict=True)
        if got != sorted(browser_categories(text))
    ]
    assert disagreements == []


def test_browser_and_server_agree_on_long_costly_texts(detect: Any) -> None:
    # Both sides read a bounded stretch after a calling code (retour/pii/numbers.py
    # _NATIONAL_READ); the texts that made them read whole runs must still agree.
    texts = costly_texts(300)
    found = detect(texts)
    disagreements = [
        (text, got, sorted(browser_categories(text)))
        for text, got in zip(texts, found, strict=True)
        if got != sorted(browser_categories(text))
    ]
    assert disagreements == []


def test_browser_module_declares_its_categories(page: Any) -> None:
    page.set_content("<!doctype html><title>pii</title>")
    page.add_script_tag(path=str(PII_JS))
    assert page.evaluate("retourPii.CATEGORIES") == sorted(BROWSER_CATEGORIES)
    assert page.evaluate("retourPii.detect('')") == []


def test_every_browser_warning_is_masked_by_the_server() -> None:
    # What the dialog announces ("it will be masked") must be true.
    for case in CASES:
        if expected_in_browser(case):
            assert mask(case["text"]).categories, case["id"]
