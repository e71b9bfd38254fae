"""The register in the console: list, create, edit, archive, import, snippet, where seen."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from retour.models import AuditEvent, ImpressionCount, Procedure, ProcedureOrigin, utcnow
from tests.factories import make_ministry, make_procedure

PARIS = ZoneInfo("Europe/Paris")

NEW = {
    "id": "carte-grise-42",
    "title": "Immatriculer un véhicule",
    "url": "https://immat.example.gouv.fr/demarche",
    "origins": "https://immat.example.gouv.fr\nhttps://www.example.gouv.fr/",
    "description": "Pour une voiture neuve.",
    "online": "1",
    "button_label": "",
}


def test_every_role_lists_its_ministry_only(client_for, session, ministry, other_ministry):
    mine = make_procedure(session, ministry_id=ministry.id, title="Démarche du ministère")
    theirs = make_procedure(session, ministry_id=other_ministry.id, title="Démarche voisine")
    for role in ("ministry_admin", "agent", "viewer"):
        page = client_for(role).get("/console/procedures")
        assert page.status_code == 200
        assert mine.title in page.text and theirs.title not in page.text
    admin = client_for("admin").get("/console/procedures")
    assert mine.title in admin.text and theirs.title in admin.text
    only = client_for("admin").get(f"/console/procedures?ministere={other_ministry.id}")
    assert theirs.title in only.text and mine.title not in only.text


def test_ministries_and_procedures_are_in_french_order(client_for, session):
    # Byte order would put É after I and "Zèbre" before "état".
    interior = make_ministry(session, slug="interieur", name="Ministère de l'Intérieur")
    economy = make_ministry(session, slug="economie", name="Ministère de l'Économie")
    make_procedure(session, ministry_id=interior.id, title="Passeport")
    make_procedure(session, ministry_id=economy.id, title="Zèbre fiscal")
    make_procedure(session, ministry_id=economy.id, title="état des créances")
    admin = client_for("admin")
    register = admin.get("/console/procedures").text
    assert register.index("Économie</td>") < register.index("Intérieur</td>")
    assert register.index("état des créances") < register.index("Zèbre fiscal")
    people = admin.get("/console/users").text  # its ministry filter
    for page in (register, admin.get("/console/procedures/new").text, people):
        assert page.index("l&#39;Économie</option>") < page.index("l&#39;Intérieur</option>")


def test_ministry_admin_creates_a_procedure_in_their_ministry(client_for, session, ministry):
    manager = client_for("ministry_admin")
    response = manager.submit("/console/procedures/new", NEW)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/procedures/carte-grise-42?fait=cree"
    procedure = session.get(Procedure, "carte-grise-42")
    assert procedure is not None and procedure.ministry_id == ministry.id and procedure.online
    origins = session.exec(
        select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == "carte-grise-42")
    ).all()
    assert sorted(origins) == ["https://immat.example.gouv.fr", "https://www.example.gouv.fr"]
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_id == "carte-grise-42")).one()
    assert event.action == "create" and event.actor_id == manager.user.id


def test_bad_procedure_form_is_answered_with_errors_not_a_500(client_for, session):
    manager = client_for("ministry_admin")
    bad = {**NEW, "id": "espace interdit", "url": "ftp://x", "origins": "https://a.fr/chemin"}
    response = manager.submit("/console/procedures/new", bad)
    assert response.status_code == 400
    assert "Identifiant invalide" in response.text
    assert "http:// ou https://" in response.text
    assert "https://a.fr/chemin" in response.text
    assert session.exec(select(Procedure)).first() is None


def test_duplicate_id_is_refused(client_for, session, ministry):
    make_procedure(session, id="carte-grise-42", ministry_id=ministry.id)
    response = client_for("ministry_admin").submit("/console/procedures/new", NEW)
    assert response.status_code == 400
    assert "déjà" in response.text


def test_admin_creates_for_any_ministry_and_must_choose_one(client_for, session, other_ministry):
    admin = client_for("admin")
    assert admin.submit("/console/procedures/new", NEW).status_code == 400
    response = admin.submit("/console/procedures/new", {**NEW, "ministry_id": other_ministry.id})
    assert response.status_code == 303
    assert session.get(Procedure, "carte-grise-42").ministry_id == other_ministry.id


def test_edit_changes_fields_and_origins_and_records_what_changed(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id, origins=("https://old.gouv.fr",))
    manager = client_for("ministry_admin")
    form = {**NEW, "title": "Nouveau titre", "origins": "https://new.gouv.fr", "online": ""}
    response = manager.submit(f"/console/procedures/{procedure.id}/edit", form)
    assert response.status_code == 303
    session.expire_all()
    stored = session.get(Procedure, procedure.id)
    assert stored.title == "Nouveau titre" and not stored.online
    origins = session.exec(
        select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == procedure.id)
    ).all()
    assert origins == ["https://new.gouv.fr"]
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_id == procedure.id, AuditEvent.action == "update"
        )
    ).one()
    detail = json.loads(event.detail)
    assert detail["title"]["to"] == "Nouveau titre"
    assert detail["origins"] == {"from": ["https://old.gouv.fr"], "to": ["https://new.gouv.fr"]}


def test_archive_and_unarchive(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    assert manager.submit(f"/console/procedures/{procedure.id}/archive").status_code == 303
    session.expire_all()
    assert session.get(Procedure, procedure.id).active is False
    assert procedure.title not in manager.get("/console/procedures").text
    assert procedure.title in manager.get("/console/procedures?archivees=1").text
    assert manager.submit(f"/console/procedures/{procedure.id}/unarchive").status_code == 303
    session.expire_all()
    assert session.get(Procedure, procedure.id).active is True
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.entity_id == procedure.id)
    ).all()
    assert sorted(actions) == ["archive", "unarchive"]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_read_but_cannot_change(client_for, session, ministry, role):
    procedure = make_procedure(session, ministry_id=ministry.id)
    client = client_for(role)
    page = client.get(f"/console/procedures/{procedure.id}")
    assert page.status_code == 200 and "Modifier" not in page.text
    assert client.get("/console/procedures/new").status_code == 403
    assert client.submit(f"/console/procedures/{procedure.id}/archive").status_code == 403
    assert client.submit(f"/console/procedures/{procedure.id}/edit", NEW).status_code == 403
    session.expire_all()
    assert session.get(Procedure, procedure.id).active is True


def test_other_ministry_procedure_is_404_for_every_action(client_for, session, other_ministry):
    procedure = make_procedure(session, ministry_id=other_ministry.id)
    manager = client_for("ministry_admin")
    assert manager.get(f"/console/procedures/{procedure.id}").status_code == 404
    assert manager.get(f"/console/procedures/{procedure.id}/edit").status_code == 404
    assert manager.submit(f"/console/procedures/{procedure.id}/archive").status_code == 404
    assert manager.submit(f"/console/procedures/{procedure.id}/edit", NEW).status_code == 404
    assert client_for("admin").get(f"/console/procedures/{procedure.id}").status_code == 200


def test_snippet_is_the_documented_one_with_the_public_url(client_for, session, ministry, settings):
    procedure = make_procedure(session, id="demarche-1234", ministry_id=ministry.id)
    page = client_for("agent").get(f"/console/procedures/{procedure.id}")
    base = settings.public_url
    expected = (
        f"&lt;a href=&#34;{base}/r/demarche-1234&#34; data-retour=&#34;demarche-1234&#34;&gt;"
        "Je fais un retour&lt;/a&gt;\n"
        f"&lt;script src=&#34;{base}/widget.js&#34; defer&gt;&lt;/script&gt;"
    )
    assert expected in page.text
    assert 'data-copy="code-bouton"' in page.text
    assert "/static/js/copy.js" in page.text


def test_where_the_button_was_seen(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id, origins=("https://ok.gouv.fr",))
    now = utcnow()
    rows = [
        ("https://ok.gouv.fr", "view", 40, now - dt.timedelta(days=1)),
        ("https://ok.gouv.fr", "open", 7, now - dt.timedelta(days=1)),
        ("https://copie.example.com", "view", 3, now - dt.timedelta(hours=2)),
    ]
    for origin, event, count, seen in rows:
        session.add(
            ImpressionCount(
                procedure_id=procedure.id,
                day=seen.date(),
                origin=origin,
                event=event,
                count=count,
                last_seen_at=seen,
            )
        )
    session.commit()
    page = client_for("viewer").get(f"/console/procedures/{procedure.id}").text
    assert "bouton en service" in page
    unregistered = page.index("https://copie.example.com")
    assert page.index("non enregistrée") > unregistered  # its row says so
    assert unregistered < page.index("<code>https://ok.gouv.fr</code>")  # listed first
    assert "<td>40</td>" in page and "<td>7</td>" in page
    assert 'class="retour-unregistered"' in page
    # The register shows the latest sighting, whichever origin and event it was, in Paris
    # time as the inbox does (never UTC, so one event reads the same on every page).
    listing = client_for("viewer").get("/console/procedures").text
    latest = (now - dt.timedelta(hours=2)).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    assert f"<td>{latest}</td>" in listing and "UTC" not in listing
    assert f"<td>{latest}</td>" in page and "UTC" not in page


CSV_OK = (
    "id;title;ministry;url;origins\r\n"
    "import-1;Première démarche;Ministère de l'Accueil;https://a.gouv.fr/x;\r\n"
    "import-2;Seconde démarche;Ministère de l'Accueil;https://b.gouv.fr/y;https://b.gouv.fr\r\n"
)


def upload(client, content: bytes, name: str = "demarches.csv"):
    return client.post(
        "/console/procedures/import",
        data={"csrf_token": client.csrf_token},
        files={"fichier": (name, content, "text/csv")},
    )


def test_import_through_the_browser(client_for, session, ministry):
    manager = client_for("ministry_admin")
    response = upload(manager, CSV_OK.encode("utf-8-sig"))
    assert response.status_code == 200, response.text
    assert "2 créées" in response.text
    assert session.get(Procedure, "import-1").ministry_id == ministry.id


def test_import_errors_are_line_numbered_and_nothing_is_imported(client_for, session):
    bad = CSV_OK + "mauvais id!;Titre;Ministère de l'Accueil;pas-une-url;\r\n"
    response = upload(client_for("ministry_admin"), bad.encode())
    assert response.status_code == 400
    assert "ligne 4" in response.text
    assert session.get(Procedure, "import-1") is None


def test_ministry_admin_cannot_import_into_another_ministry(
    client_for, session, ministry, other_ministry
):
    make_procedure(session, id="deja-voisin", ministry_id=other_ministry.id)
    content = (
        CSV_OK
        + "import-3;Chez le voisin;Ministère Voisin;https://c.gouv.fr;\r\n"
        + "deja-voisin;Reprise;Ministère de l'Accueil;https://d.gouv.fr;\r\n"
    )
    response = upload(client_for("ministry_admin"), content.encode())
    assert response.status_code == 400
    assert "ligne 4" in response.text and "Ministère Voisin" in response.text
    assert "ligne 5" in response.text and "deja-voisin" in response.text
    assert session.get(Procedure, "import-1") is None
    session.expire_all()
    assert session.get(Procedure, "deja-voisin").ministry_id == other_ministry.id


def test_admin_imports_for_any_ministry_creating_new_ones(client_for, session):
    content = CSV_OK + "import-3;Chez un nouveau;Ministère des Nouveautés;https://c.gouv.fr;\r\n"
    response = upload(client_for("admin"), content.encode())
    assert response.status_code == 200, response.text
    assert "ministere-des-nouveautes" in response.text


def test_import_without_a_file_or_with_a_binary_file(client_for):
    manager = client_for("ministry_admin")
    missing = manager.post("/console/procedures/import", data={"csrf_token": manager.csrf_token})
    assert missing.status_code == 400
    assert upload(manager, b"\xff\xfe\x00garbage").status_code == 400
