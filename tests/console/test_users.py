"""People: who may add and deactivate whom."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from retour.models import AuditEvent, StaffUser
from tests.console.conftest import sign_in
from tests.factories import make_user


def created(session, email):
    return session.exec(select(StaffUser).where(StaffUser.email == email)).first()


def test_ministry_admin_lists_only_their_ministry(client_for, session, other_ministry):
    stranger = make_user(session, role="agent", ministry=other_ministry)
    manager = client_for("ministry_admin")
    colleague = make_user(session, role="viewer", ministry=manager.ministry)
    page = manager.get("/console/users").text
    assert colleague.email in page and manager.user.email in page
    assert stranger.email not in page
    assert stranger.email in client_for("admin").get("/console/users").text


def test_agents_and_viewers_cannot_manage_people(client_for, session):
    target = make_user(session, role="viewer")
    for role in ("agent", "viewer"):
        client = client_for(role)
        assert client.get("/console/users").status_code == 403
        assert client.get("/console/users/new").status_code == 403
        assert (
            client.submit("/console/users/new", {"email": "x@y.fr", "role": "agent"}).status_code
            == 403
        )
        assert client.submit(f"/console/users/{target.id}/deactivate").status_code == 403


def test_ministry_admin_adds_an_agent_with_a_generated_password_shown_once(
    client_for, session, ministry
):
    manager = client_for("ministry_admin")
    response = manager.submit(
        "/console/users/new", {"email": "Nouvel.Agent@Example.gouv.fr", "role": "agent"}
    )
    assert response.status_code == 201, response.text
    password = re.search(r'<code id="mot-de-passe">([^<]+)</code>', response.text).group(1)
    assert len(password) >= 12
    user = created(session, "nouvel.agent@example.gouv.fr")
    assert user.role == "agent" and user.ministry_id == ministry.id
    assert password not in user.password_hash
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_id == str(user.id))).one()
    assert event.action == "create" and event.actor_id == manager.user.id
    # The generated password works.
    newcomer = client_for(None)
    assert sign_in(newcomer, "nouvel.agent@example.gouv.fr", password).status_code == 303


def test_chosen_password_is_not_shown(client_for, session):
    response = client_for("ministry_admin").submit(
        "/console/users/new",
        {"email": "lecteur@example.gouv.fr", "role": "viewer", "password": "un mot de passe long"},
    )
    assert response.status_code == 201
    assert "un mot de passe long" not in response.text
    assert 'id="mot-de-passe"' not in response.text


def test_ministry_admin_cannot_create_an_admin_nor_for_another_ministry(
    client_for, session, other_ministry
):
    manager = client_for("ministry_admin")
    response = manager.submit(
        "/console/users/new", {"email": "chef@example.gouv.fr", "role": "admin"}
    )
    assert response.status_code == 400
    assert created(session, "chef@example.gouv.fr") is None
    # A ministry field sent by hand is ignored: the account lands in the admin's own ministry.
    response = manager.submit(
        "/console/users/new",
        {"email": "ailleurs@example.gouv.fr", "role": "agent", "ministry_id": other_ministry.id},
    )
    assert response.status_code == 201
    assert created(session, "ailleurs@example.gouv.fr").ministry_id == manager.ministry.id


def test_bad_account_input_is_explained(client_for, session):
    manager = client_for("ministry_admin")
    bad_email = manager.submit("/console/users/new", {"email": "pas-une-adresse", "role": "agent"})
    assert bad_email.status_code == 400 and "Adresse électronique invalide" in bad_email.text
    short = manager.submit(
        "/console/users/new", {"email": "a@b.gouv.fr", "role": "agent", "password": "court"}
    )
    assert short.status_code == 400
    # A sentence of its own: a capital first, a full stop last.
    sentence = "Le mot de passe doit compter au moins 12 caractères."
    # In the summary, a link to the field; on the field itself, tied to it.
    assert f'<li><a href="#password">{sentence}</a></li>' in short.text
    assert f'<p class="fr-error-text" id="password-error">{sentence}</p>' in short.text
    assert 'aria-invalid="true" aria-describedby="password-error"' in short.text
    assert "fr-input-group fr-input-group--error" in short.text
    empty = manager.submit("/console/users/new", {"email": " ", "role": "agent"})
    assert empty.status_code == 400 and "Indiquez l’adresse électronique du compte." in empty.text
    duplicate = manager.submit("/console/users/new", {"email": manager.user.email, "role": "agent"})
    assert duplicate.status_code == 400 and "existe déjà" in duplicate.text


def test_admin_creates_an_admin_and_a_ministry_account(client_for, session, other_ministry):
    admin = client_for("admin")
    assert (
        admin.submit(
            "/console/users/new", {"email": "dinum@x.gouv.fr", "role": "admin"}
        ).status_code
        == 201
    )
    assert created(session, "dinum@x.gouv.fr").ministry_id is None
    missing = admin.submit("/console/users/new", {"email": "m@x.gouv.fr", "role": "agent"})
    assert missing.status_code == 400
    ok = admin.submit(
        "/console/users/new",
        {"email": "m@x.gouv.fr", "role": "ministry_admin", "ministry_id": other_ministry.id},
    )
    assert ok.status_code == 201
    assert created(session, "m@x.gouv.fr").ministry_id == other_ministry.id


def test_deactivation_ends_sessions_and_sign_in(client_for, session, ministry):
    manager = client_for("ministry_admin")
    agent = client_for("agent")
    assert agent.get("/console/procedures").status_code == 200
    response = manager.submit(f"/console/users/{agent.user.id}/deactivate")
    assert response.status_code == 303
    # The agent's open session is over, and signing in again is refused.
    assert agent.get("/console/procedures").status_code == 303
    assert sign_in(client_for(None), agent.user.email).status_code == 400
    manager.submit(f"/console/users/{agent.user.id}/reactivate")
    assert sign_in(client_for(None), agent.user.email).status_code == 303
    actions = session.exec(
        select(AuditEvent.action).where(
            AuditEvent.entity == "staff_user", AuditEvent.entity_id == str(agent.user.id)
        )
    ).all()
    assert sorted(actions) == ["deactivate", "reactivate"]


def test_other_ministry_accounts_and_admins_are_404_for_a_ministry_admin(
    client_for, session, other_ministry
):
    stranger = make_user(session, role="agent", ministry=other_ministry)
    dinum = make_user(session, role="admin")
    manager = client_for("ministry_admin")
    for target in (stranger, dinum):
        assert manager.submit(f"/console/users/{target.id}/deactivate").status_code == 404
        session.refresh(target)
        assert target.active
    assert manager.submit("/console/users/999999/deactivate").status_code == 404


def test_nobody_deactivates_themselves(client_for):
    admin = client_for("admin")
    assert admin.submit(f"/console/users/{admin.user.id}/deactivate").status_code == 400
    assert admin.get("/console/users").status_code == 200


def test_last_sign_in_is_shown_in_paris_time(client_for, session, ministry):
    # 12:30 UTC on a winter day is 13:30 in Paris, as the inbox would show it.
    winter_noon = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
    make_user(session, role="viewer", ministry=ministry, last_login_at=winter_noon)
    page = client_for("ministry_admin").get("/console/users").text
    assert "<td>15/01/2026 13:30</td>" in page and "UTC" not in page
