"""What the register tells a ministry is true: the button's state, origins to add, archiving a
live button, errors on their fields, the import's template and result, the DSFR snippet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from sqlmodel import select

from retour.coverage import button_states
from retour.importer import parse_procedures
from retour.models import AuditEvent, ImpressionCount, Procedure, ProcedureOrigin, utcnow
from tests.factories import make_procedure

OK = "https://ok.gouv.fr"
COPY = "https://copie.example.com"


def seen(session, procedure, origin, *, ago: dt.timedelta, event: str = "view") -> None:
    at = utcnow() - ago
    session.add(
        ImpressionCount(
            procedure_id=procedure.id, day=at.date(), origin=origin, event=event, count=3,
            last_seen_at=at,
        )
    )  # fmt: skip
    session.commit()


@pytest.fixture
def four(session, ministry):
    """One procedure in each state, named after it."""
    made = {
        state: make_procedure(session, id=f"etat-{state}", title=f"Démarche {state}",
                              ministry_id=ministry.id, origins=(OK,))
        for state in ("live", "unregistered", "stale", "never")
    }  # fmt: skip
    seen(session, made["live"], OK, ago=dt.timedelta(hours=3))
    seen(session, made["live"], COPY, ago=dt.timedelta(hours=1))
    seen(session, made["unregistered"], COPY, ago=dt.timedelta(days=2))
    seen(session, made["unregistered"], OK, ago=dt.timedelta(days=30))
    seen(session, made["stale"], OK, ago=dt.timedelta(days=9))
    return made


def test_button_states(session, four):
    states = button_states(session.connection(), [p.id for p in four.values()], now=utcnow())
    assert states == {f"etat-{s}": s for s in ("live", "unregistered", "stale", "never")}


def test_a_procedure_made_a_minute_ago_is_never_seen_not_stale(client_for, session, four):
    manager = client_for("ministry_admin")
    listing = manager.get("/console/procedures").text
    rows = {
        state: listing[listing.index(f"/console/procedures/etat-{state}") :].split("</tr>")[0]
        for state in four
    }
    assert "bouton en service" in rows["live"]
    assert "bouton vu seulement sur une origine non enregistrée" in rows["unregistered"]
    assert "bouton non vu depuis 7 jours" in rows["stale"]
    assert "bouton jamais vu" in rows["never"] and "non vu depuis" not in rows["never"]
    for state, badge in (("live", "success"), ("never", "info")):
        assert f"fr-badge--{badge}" in rows[state]
    for state in four:
        page = manager.get(f"/console/procedures/etat-{state}").text
        header = page[page.index("<h1>") : page.index("Code à intégrer")]
        assert header.count("fr-badge--sm") == 1  # one state, the true one
    new = manager.get("/console/procedures/etat-never").text
    assert "bouton jamais vu" in new and "non vu depuis 7 jours" not in new


def test_the_column_says_what_online_means(client_for, session, four):
    listing = client_for("viewer").get("/console/procedures").text
    headers = re.findall(r'<th scope="col">([^<]+)</th>', listing)
    assert "Réalisable en ligne" in headers and "En ligne" not in headers
    assert "Bouton" in headers


def test_an_unregistered_origin_is_added_in_one_click(client_for, session, four, ministry):
    procedure = four["unregistered"]
    manager = client_for("ministry_admin")
    page = manager.get(f"/console/procedures/{procedure.id}").text
    form = page[page.index(f'action="/console/procedures/{procedure.id}/origins"') :]
    assert f'name="origin" value="{COPY}"' in form.split("</form>")[0]
    assert 'name="csrf_token"' in form.split("</form>")[0]
    # Without the session's token: refused, nothing added.
    forged = manager.post(f"/console/procedures/{procedure.id}/origins", data={"origin": COPY})
    assert forged.status_code == 403
    done = manager.submit(f"/console/procedures/{procedure.id}/origins", {"origin": COPY + "/"})
    assert done.status_code == 303
    assert done.headers["location"].endswith("?fait=origine")
    origins = session.exec(
        select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == procedure.id)
    ).all()
    assert sorted(origins) == [COPY, OK]
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_id == procedure.id, AuditEvent.action == "origin_add"
        )
    ).one()
    assert json.loads(event.detail) == {"origin": COPY} and event.actor_id == manager.user.id
    after = manager.get(f"/console/procedures/{procedure.id}?fait=origine").text
    assert "L’origine est ajoutée à la démarche." in after
    assert "bouton en service" in after  # seen two days ago on what is now registered
    assert f'name="origin" value="{COPY}"' not in after


def test_adding_an_origin_is_for_those_who_manage_procedures(
    client_for, session, four, other_ministry
):
    procedure = four["unregistered"]
    viewer = client_for("viewer")
    assert "Ajouter cette origine" not in viewer.get(f"/console/procedures/{procedure.id}").text
    path = f"/console/procedures/{procedure.id}/origins"
    assert viewer.submit(path, {"origin": COPY}).status_code == 403
    theirs = make_procedure(session, ministry_id=other_ministry.id)
    manager = client_for("ministry_admin")
    assert (
        manager.submit(f"/console/procedures/{theirs.id}/origins", {"origin": COPY}).status_code
        == 404
    )
    assert manager.submit(path, {"origin": "javascript:alert(1)"}).status_code == 400
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "origin_add")).all() == []


def test_archiving_a_button_seen_this_week_asks_first(client_for, session, four):
    manager = client_for("ministry_admin")
    live = four["live"]
    asked = manager.submit(f"/console/procedures/{live.id}/archive")
    assert asked.status_code == 200
    assert "Le bouton de cette démarche est encore en ligne" in asked.text
    assert OK in asked.text and COPY in asked.text
    assert 'name="confirmer" value="1"' in asked.text
    session.expire_all()
    assert session.get(Procedure, live.id).active is True
    done = manager.submit(f"/console/procedures/{live.id}/archive", {"confirmer": "1"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Procedure, live.id).active is False
    # Not seen this week: archived at once.
    for state in ("stale", "never"):
        quiet = manager.submit(f"/console/procedures/{four[state].id}/archive")
        assert quiet.status_code == 303, state


def test_each_error_is_on_its_field_and_the_identifier_is_suggested(client_for, session):
    manager = client_for("ministry_admin")
    bad = {"id": "carte grise !", "title": "Carte grise : duplicata", "url": "ftp://x",
           "origins": "https://a.fr/chemin", "online": "1"}  # fmt: skip
    html = manager.submit("/console/procedures/new", bad).text
    assert "Par exemple\u202f: «\u202fcarte-grise-duplicata\u202f»." in html
    summary = html[html.index('id="erreurs"') :].split("</div>")[0]
    assert [link for link in re.findall(r'href="#([\w-]+)"', summary)] == ["id", "url", "origins"]
    for field in ("id", "url", "origins"):
        assert f'aria-invalid="true" aria-describedby="{field}-error"' in html
        assert f'<p class="fr-error-text" id="{field}-error">' in html
    assert html.count("fr-input-group--error") == 3
    assert (
        'id="title" name="title" value="Carte grise : duplicata" required maxlength="300">' in html
    )
    assert html.startswith("<!doctype html>") and "<title>Erreur\u202f: " in html


def test_the_import_template_opens_in_excel_and_imports_as_it_is(client_for, session, ministry):
    manager = client_for("ministry_admin")
    page = manager.get("/console/procedures/import").text
    assert 'href="/console/procedures/import/modele.csv"' in page
    assert "Le nom de votre ministère\u202f: «\u202fMinistère de l&#39;Accueil\u202f»" in page
    response = manager.get("/console/procedures/import/modele.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["id", "title", "ministry", "url", "origins", "description"]
    assert len(rows) == 2 and rows[1][2] == "Ministère de l'Accueil"
    parsed = parse_procedures(raw)
    assert parsed.errors == [] and len(parsed.rows) == 1
    assert client_for("viewer").get("/console/procedures/import/modele.csv").status_code == 403
    admin_page = client_for("admin").get("/console/procedures/import").text
    assert "un nom encore inconnu crée le ministère" in admin_page


def test_the_import_lists_what_it_created_and_updated(client_for, session, ministry):
    make_procedure(session, id="import-2", title="Ancien titre", ministry_id=ministry.id)
    content = (
        "id;title;ministry;url\r\n"
        "import-1;Première démarche;Ministère de l'Accueil;https://a.gouv.fr/x\r\n"
        "import-2;Seconde démarche;Ministère de l'Accueil;https://b.gouv.fr/y\r\n"
    )
    manager = client_for("ministry_admin")
    response = manager.post(
        "/console/procedures/import",
        data={"csrf_token": manager.csrf_token},
        files={"fichier": ("d.csv", content.encode(), "text/csv")},
    )
    html = response.text
    created = html[html.index("Démarches créées") :].split("</ul>")[0]
    updated = html[html.index("Démarches modifiées") :].split("</ul>")[0]
    assert 'href="/console/procedures/import-1">Première démarche</a>' in created
    assert "import-2" not in created
    assert 'href="/console/procedures/import-2">Seconde démarche</a>' in updated


def test_import_errors_are_on_the_file_field(client_for):
    manager = client_for("ministry_admin")
    bad = "id;title;ministry;url\r\nmauvais id!;T;Ministère de l'Accueil;pas-une-url\r\n"
    response = manager.post(
        "/console/procedures/import",
        data={"csrf_token": manager.csrf_token},
        files={"fichier": ("d.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 400
    html = response.text
    assert "fr-upload-group--error" in html
    assert 'aria-describedby="fichier-error"' in html
    assert re.search(r'<li><a href="#fichier">ligne 2', html)


def test_the_snippet_shows_the_dsfr_look(client_for, session, ministry, settings):
    procedure = make_procedure(session, id="demarche-1234", ministry_id=ministry.id)
    page = client_for("agent").get(f"/console/procedures/{procedure.id}").text
    assert (
        f"&lt;a href=&#34;{settings.public_url}/r/demarche-1234&#34; "
        "data-retour=&#34;demarche-1234&#34; class=&#34;fr-btn&#34;&gt;Je fais un retour&lt;/a&gt;"
    ) in page
    assert 'data-copy="code-bouton-dsfr"' in page
