"""Every scrolling table container is a focusable region named by its table's caption.

The DSFR container scrolls sideways on small screens, so it takes the focus (tabindex="0");
a focusable element needs a name (RGAA 7.1 / 7.3, WCAG 4.1.2): role="region" and
aria-labelledby pointing at the caption of the table it holds (console/templates/_table.html).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlmodel import Session

from retour.models import Procedure
from retour.stats import refresh
from tests.console.public_data import Known, load_known
from tests.factories import make_feedback, make_procedure


class Regions(HTMLParser):
    """Ids of the page (with their tag) and, per table container, its attributes and the ids
    of the captions inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, list[str]] = {}
        self.containers: list[tuple[dict[str, str | None], list[str]]] = []
        self._div_depth = 0
        self._open: list[tuple[int, list[str]]] = []  # (div depth at opening, caption ids)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.setdefault(str(values["id"]), []).append(tag)
        if tag == "caption" and values.get("id"):
            for _, captions in self._open:
                captions.append(str(values["id"]))
        if tag != "div":
            return
        self._div_depth += 1
        if "fr-table__container" in (values.get("class") or "").split():
            captions: list[str] = []
            self.containers.append((values, captions))
            self._open.append((self._div_depth, captions))

    def handle_endtag(self, tag: str) -> None:
        if tag != "div":
            return
        if self._open and self._open[-1][0] == self._div_depth:
            self._open.pop()
        self._div_depth -= 1


def assert_named_regions(html: str, expected: set[str]) -> None:
    page = Regions()
    page.feed(html)
    page.close()
    duplicates = {id_ for id_, tags in page.ids.items() if len(tags) > 1}
    assert not duplicates, duplicates
    labels = set()
    for attrs, captions in page.containers:
        assert attrs.get("tabindex") == "0", attrs
        assert attrs.get("role") == "region", attrs
        label = attrs.get("aria-labelledby")
        assert label, attrs
        assert page.ids.get(label) == ["caption"], (label, page.ids.get(label))
        assert captions == [label], (label, captions)  # the caption of its own table
        labels.add(label)
    assert len(labels) == len(page.containers)
    assert expected <= labels, expected - labels


@pytest.fixture
def known(session: Session, engine) -> Known:
    data = load_known(session)
    refresh(engine)
    return data


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_public_dashboard(client_for, known, lang) -> None:
    html = client_for(None).get(f"/?lang={lang}").text
    assert_named_regions(html, {"demarches-legende", "boucle-legende"})


def test_public_procedure_page(client_for, known) -> None:
    html = client_for(None).get(f"/procedures/{known.passport.id}").text
    assert_named_regions(html, {"tableau-volume", "mois-legende", "avis-legende", "types-legende"})


def test_coverage_page(client_for, known) -> None:
    html = client_for("admin").get("/console/coverage").text
    assert_named_regions(
        html,
        {
            "boucle-legende",
            "tendance-legende",
            "sans-bouton-legende",
            "entonnoir-legende",
            "declarations-legende",
        },
    )


@pytest.fixture
def procedure(session: Session, ministry) -> Procedure:
    return make_procedure(session, ministry_id=ministry.id)


def test_inbox(client_for, session, procedure) -> None:
    make_feedback(session, procedure=procedure)
    html = client_for("agent").get("/console/").text
    assert_named_regions(html, {"liste-legende", "tableau-volume", "tableau-satisfaction"})
