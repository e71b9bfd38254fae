"""What the console and /suivi say about a submission is true: a rejection's reason, an
archived procedure's submissions, an unknown origin, and /suivi in the public menu."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from retour.models import Feedback
from retour.receipts import new_receipt
from retour.stats import refresh
from tests.factories import make_feedback, make_procedure


def test_rejecting_asks_for_a_reason_shown_on_suivi(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    feedback = make_feedback(session, procedure=procedure, receipt=new_receipt())
    agent = client_for("agent")
    page = agent.get(f"/console/feedback/{feedback.id}").text
    form = page[page.index('<input type="hidden" name="to" value="rejected">') :]
    assert 'name="reason"' in form.split("</form>")[0]
    assert "Motif du rejet, pour l’usager" in page
    path = f"/console/feedback/{feedback.id}/status"
    refused = agent.submit(path, {"to": "rejected", "reason": "  "})
    assert refused.headers["location"].endswith("?erreur=empty_reason#statut")
    shown = unescape(agent.get(refused.headers["location"]).text)
    assert "le motif est obligatoire" in shown
    session.rollback()
    assert session.get(Feedback, feedback.id).status == "new"

    done = agent.submit(path, {"to": "rejected", "reason": "Cette démarche relève de la mairie."})
    assert done.status_code == 303
    suivi = client_for(None).get(f"/suivi/{feedback.receipt}").text
    assert "Clos sans suite" in suivi
    assert "Motif\u202f: <span" in suivi and "Cette démarche relève de la mairie." in suivi
    console = agent.get(f"/console/feedback/{feedback.id}").text
    assert "Cette démarche relève de la mairie." in console

    agent.submit(path, {"to": "in_progress"})
    again = client_for(None).get(f"/suivi/{feedback.receipt}").text
    assert "relève de la mairie" not in again


def test_suivi_is_in_the_public_menu(client_for):
    html = client_for(None).get("/").text
    menu = html[html.index('id="navigation-principale"') :].split("</nav>")[0]
    assert 'href="/suivi"' in menu and "Suivre un retour" in menu
    form = client_for(None).get("/suivi").text
    assert 'href="/suivi" aria-current="page"' in form


def test_an_archived_procedures_submission_is_flagged_and_kept_out_of_public_figures(
    client_for, session, engine, ministry
):
    procedure = make_procedure(session, ministry_id=ministry.id, title="Ancienne démarche")
    feedback = make_feedback(session, procedure=procedure, satisfaction=1)
    procedure.active = False
    session.add(procedure)
    session.commit()
    refresh(engine)
    page = client_for("agent").get(f"/console/feedback/{feedback.id}").text
    assert "démarche archivée" in page and "n’entre pas dans les chiffres publics" in page
    inbox = client_for("agent").get("/console/").text
    assert f'href="/console/feedback/{feedback.id}"' in inbox  # visible to its ministry
    public = client_for(None).get("/open-data/procedures.json").json()["procedures"]
    assert procedure.id not in {row["id"] for row in public}
    assert "Ancienne démarche" not in client_for(None).get("/").text
    assert client_for(None).get(f"/procedures/{procedure.id}").status_code == 404


def test_an_unknown_origin_is_not_an_unregistered_one(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    unknown = make_feedback(session, procedure=procedure, page_url=None, page_origin=None,
                            origin_registered=None, comment="Venu sans Referer")  # fmt: skip
    copied = make_feedback(session, procedure=procedure, page_origin="https://copie.example.com",
                           origin_registered=False, comment="Venu d'un site copié")  # fmt: skip
    agent = client_for("agent")
    flagged = agent.get("/console/?unregistered=1").text
    # Links from a filtered list carry it (`?liste=…`), for previous/next on the item.
    assert f'href="/console/feedback/{copied.id}?liste=' in flagged
    assert f'href="/console/feedback/{unknown.id}?' not in flagged
    inbox = agent.get("/console/").text
    row = inbox[inbox.index(f'href="/console/feedback/{unknown.id}"') :].split("</tr>")[0]
    assert "non enregistrée" not in row
    page = agent.get(f"/console/feedback/{unknown.id}").text
    origin = page[page.index("<dt>Origine</dt>") :].split("</dd>")[0]
    assert "inconnue" in origin and "non enregistrée" not in origin
    export = {
        row["id"]: row for row in csv.DictReader(io.StringIO(agent.get("/console/export.csv").text))
    }
    assert export[str(unknown.id)]["origin_registered"] == ""  # unknown: empty
    assert export[str(copied.id)]["origin_registered"] == "false"


def test_french_pages_follow_french_typography(client_for):
    """No plain space before « : ; ? ! » in our words (retour/typography.py, through `_`)."""
    client = client_for(None)
    for path in ("/", "/suivi", "/suivi?numero=x", "/console/login", "/open-data",
                 "/accessibilite", "/donnees-personnelles"):  # fmt: skip
        html = client.get(path).text
        body = html[html.index("<body") :]
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S)
        bad = re.findall(r"\S{0,20}[ \u00a0][:;?!»]", unescape(text))
        assert not bad, f"{path}: {bad[:5]}"
