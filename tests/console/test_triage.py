"""retour.triage: the workflow, assignment, notes, tags, answers, bulk actions and history."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from retour import answer_mail, triage
from retour.models import STATUS_TRANSITIONS, STATUSES, AuditEvent, Feedback
from tests.factories import make_feedback, make_ministry, make_procedure, make_user


@pytest.fixture
def world(session: Session) -> dict:
    ministry = make_ministry(session)
    other = make_ministry(session)
    return {
        "ministry": ministry,
        "other": other,
        "agent": make_user(session, role="agent", ministry=ministry),
        "colleague": make_user(session, role="agent", ministry=ministry),
        "viewer": make_user(session, role="viewer", ministry=ministry),
        "stranger": make_user(session, role="agent", ministry=other),
        "admin": make_user(session, role="admin"),
        "procedure": make_procedure(session, ministry_id=ministry.id),
    }


def events(session: Session, feedback: Feedback) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.entity_id == str(feedback.id))
    return list(session.exec(statement.order_by(AuditEvent.id)).all())


@pytest.mark.parametrize(
    ("start", "to"),
    [(a, b) for a in STATUSES for b in STATUSES if b in STATUS_TRANSITIONS[a]],
)
def test_every_allowed_transition_is_made_and_recorded(session, world, start, to) -> None:
    feedback = make_feedback(session, procedure=world["procedure"], status=start)
    reason = "Hors du champ de ce service." if to == "rejected" else ""
    triage.change_status(session, feedback=feedback, actor=world["agent"], to=to, reason=reason)
    session.commit()
    session.refresh(feedback)
    assert feedback.status == to
    [event] = events(session, feedback)
    assert event.action == "status"
    assert event.actor_id == world["agent"].id
    assert event.ministry_id == world["ministry"].id
    expected = {"from": start, "to": to, **({"reason": reason} if reason else {})}
    assert json.loads(event.detail) == expected


def test_rejecting_needs_a_public_reason_masked_and_gone_on_reopening(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    for blank in ("", "   \n "):
        with pytest.raises(triage.TriageError) as error:
            triage.change_status(
                session, feedback=feedback, actor=world["agent"], to="rejected", reason=blank
            )
        assert error.value.code == "empty_reason"
    with pytest.raises(triage.TriageError) as error:
        triage.change_status(
            session, feedback=feedback, actor=world["agent"], to="rejected", reason="x" * 301
        )
    assert error.value.code == "reason_too_long"
    session.rollback()
    session.refresh(feedback)
    assert feedback.status == "new" and events(session, feedback) == []
    triage.change_status(
        session,
        feedback=feedback,
        actor=world["agent"],
        to="rejected",
        reason="Appelez-nous  au 06 12 34 56 78.",
    )
    session.commit()
    assert feedback.rejection_reason is not None
    assert "06 12" not in feedback.rejection_reason  # published: masked like an answer
    assert feedback.rejection_reason.startswith("Appelez-nous au ")
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="in_progress")
    session.commit()
    assert feedback.rejection_reason is None  # reopened: no longer what /suivi says
    first = json.loads(events(session, feedback)[0].detail)
    assert first["reason"].startswith("Appelez-nous")  # the history keeps it


@pytest.mark.parametrize(
    ("start", "to"),
    [(a, b) for a in STATUSES for b in STATUSES if b not in STATUS_TRANSITIONS[a]],
)
def test_refused_transitions_change_nothing(session, world, start, to) -> None:
    feedback = make_feedback(session, procedure=world["procedure"], status=start)
    with pytest.raises(triage.TriageError) as error:
        triage.change_status(session, feedback=feedback, actor=world["agent"], to=to)
    assert error.value.code == "transition_refused"
    session.rollback()
    session.refresh(feedback)
    assert feedback.status == start
    assert events(session, feedback) == []


def test_unknown_status_is_refused(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    with pytest.raises(triage.TriageError, match="unknown status"):
        triage.change_status(session, feedback=feedback, actor=world["agent"], to="done")


def test_acknowledged_at_is_set_once_when_leaving_new(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    assert feedback.acknowledged_at is None
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="in_progress")
    first = feedback.acknowledged_at
    assert first is not None
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="spam")
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="new")
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="acknowledged")
    session.commit()
    session.refresh(feedback)
    assert feedback.acknowledged_at == first


def test_viewer_and_other_ministry_cannot_act(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    with pytest.raises(triage.TriageError) as error:
        triage.change_status(session, feedback=feedback, actor=world["viewer"], to="acknowledged")
    assert error.value.code == "forbidden"
    with pytest.raises(triage.NotVisible):
        triage.add_note(session, feedback=feedback, actor=world["stranger"], body="hello")
    # DINUM may act on every ministry's submissions.
    triage.change_status(session, feedback=feedback, actor=world["admin"], to="acknowledged")
    assert feedback.status == "acknowledged"


def test_deactivated_account_cannot_act(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    agent = world["agent"]
    agent.active = False
    with pytest.raises(triage.NotVisible):
        triage.change_status(session, feedback=feedback, actor=agent, to="acknowledged")


def test_assignment_only_within_the_ministry(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    triage.assign(session, feedback=feedback, actor=world["agent"], assignee=world["colleague"])
    assert feedback.assignee_id == world["colleague"].id
    for wrong in (world["stranger"], world["viewer"], world["admin"]):
        with pytest.raises(triage.TriageError) as error:
            triage.assign(session, feedback=feedback, actor=world["agent"], assignee=wrong)
        assert error.value.code == "bad_assignee"
    assert feedback.assignee_id == world["colleague"].id
    triage.assign(session, feedback=feedback, actor=world["agent"], assignee=None)
    session.commit()
    assert feedback.assignee_id is None
    actions = [(e.action, json.loads(e.detail)["to"]) for e in events(session, feedback)]
    assert actions == [("assign", world["colleague"].id), ("assign", None)]
    emails = [u.email for u in triage.assignable_users(session, ministry_id=world["ministry"].id)]
    assert world["colleague"].email in emails
    assert world["viewer"].email not in emails
    assert world["stranger"].email not in emails


def test_notes_and_tags(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    actor = world["agent"]
    note = triage.add_note(session, feedback=feedback, actor=actor, body="  Appeler le service  ")
    assert note.body == "Appeler le service"
    with pytest.raises(triage.TriageError):
        triage.add_note(session, feedback=feedback, actor=actor, body="   ")
    with pytest.raises(triage.TriageError):
        triage.add_note(session, feedback=feedback, actor=actor, body="x" * 5001)
    assert triage.add_tag(session, feedback=feedback, actor=actor, tag="  Étape  3 ") == "étape 3"
    triage.add_tag(session, feedback=feedback, actor=actor, tag="ÉTAPE 3")  # same tag: no-op
    triage.add_tag(session, feedback=feedback, actor=actor, tag="bug")
    session.commit()
    assert triage.tags_of(session, feedback.id) == ["bug", "étape 3"]
    triage.remove_tag(session, feedback=feedback, actor=actor, tag="bug")
    triage.remove_tag(session, feedback=feedback, actor=actor, tag="absent")
    session.commit()
    assert triage.tags_of(session, feedback.id) == ["étape 3"]
    actions = [e.action for e in events(session, feedback)]
    assert actions == ["note", "tag_add", "tag_add", "tag_remove"]


def test_public_answer_create_edit_and_email_text(session, world) -> None:
    feedback = make_feedback(
        session, procedure=world["procedure"], contact_email="citoyen@example.org", locale="fr"
    )
    actor = world["agent"]
    with pytest.raises(triage.TriageError) as error:
        answer_mail.answer_email(session, feedback=feedback, actor=actor, public_url="https://x")
    assert error.value.code == "no_answer"
    answer = triage.save_answer(session, feedback=feedback, actor=actor, body="Corrigé, merci.")
    assert answer.procedure_id == feedback.procedure_id
    assert answer.ministry_id == feedback.ministry_id
    same = triage.save_answer(session, feedback=feedback, actor=actor, body="Corrigé, merci.")
    assert same.id == answer.id
    triage.save_answer(session, feedback=feedback, actor=actor, body="Corrigé le 3 mars.")
    session.commit()
    assert triage.answer_of(session, feedback.id).body == "Corrigé le 3 mars."
    email = answer_mail.answer_email(
        session, feedback=feedback, actor=actor, public_url="https://retour.example/"
    )
    assert email.to == "citoyen@example.org"
    assert world["procedure"].title in email.subject
    assert "Corrigé le 3 mars." in email.body
    assert f"https://retour.example/suivi/{feedback.receipt}" in email.body
    answer_mail.record_answer_emailed(session, feedback=feedback, actor=actor)
    session.commit()
    assert triage.answer_of(session, feedback.id).emailed_at is not None
    actions = [e.action for e in events(session, feedback)]
    assert actions == ["answer_publish", "answer_edit", "answer_email", "contact_email_purged"]
    assert "citoyen@example.org" not in " ".join(e.detail for e in events(session, feedback))


def test_answer_email_needs_an_address(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"], contact_email=None)
    triage.save_answer(session, feedback=feedback, actor=world["agent"], body="Merci")
    with pytest.raises(triage.TriageError) as error:
        answer_mail.answer_email(session, feedback=feedback, actor=world["agent"], public_url="x")
    assert error.value.code == "no_email"


def test_english_citizen_gets_english_email(session, world) -> None:
    feedback = make_feedback(
        session, procedure=world["procedure"], contact_email="a@example.org", locale="en"
    )
    triage.save_answer(session, feedback=feedback, actor=world["agent"], body="Fixed")
    email = answer_mail.answer_email(
        session, feedback=feedback, actor=world["agent"], public_url="x"
    )
    assert email.subject.startswith("Answer to your feedback")


def test_bulk_status_skips_what_the_workflow_refuses(session, world) -> None:
    new = [make_feedback(session, procedure=world["procedure"]) for _ in range(3)]
    resolved = make_feedback(session, procedure=world["procedure"], status="resolved")
    ids = [f.id for f in new] + [resolved.id]
    result = triage.bulk_status(session, actor=world["agent"], ids=ids, to="acknowledged")
    session.commit()
    assert (result.changed, result.skipped) == (3, 1)
    assert {f.status for f in session.exec(select(Feedback)).all()} == {"acknowledged", "resolved"}
    result = triage.bulk_status(session, actor=world["agent"], ids=ids, to="spam")
    assert (result.changed, result.skipped) == (4, 0)


def test_bulk_with_a_foreign_id_changes_nothing(session, world) -> None:
    mine = make_feedback(session, procedure=world["procedure"])
    elsewhere = make_procedure(session, ministry_id=world["other"].id)
    foreign = make_feedback(session, procedure=elsewhere)
    for ids in ([mine.id, foreign.id], [mine.id, 10**9]):
        with pytest.raises(triage.NotVisible):
            triage.bulk_status(session, actor=world["agent"], ids=ids, to="acknowledged")
        with pytest.raises(triage.NotVisible):
            triage.bulk_assign(session, actor=world["agent"], ids=ids, assignee=world["colleague"])
    session.rollback()
    session.refresh(mine)
    assert mine.status == "new" and mine.assignee_id is None


def test_bulk_assign(session, world) -> None:
    rows = [make_feedback(session, procedure=world["procedure"]) for _ in range(2)]
    ids = [f.id for f in rows]
    result = triage.bulk_assign(session, actor=world["agent"], ids=ids, assignee=world["colleague"])
    assert (result.changed, result.skipped) == (2, 0)
    result = triage.bulk_assign(session, actor=world["agent"], ids=ids, assignee=world["colleague"])
    assert (result.changed, result.skipped) == (0, 2)
    with pytest.raises(triage.TriageError):
        triage.bulk_assign(session, actor=world["agent"], ids=ids, assignee=world["stranger"])


def test_history_names_who_did_what_in_order(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    triage.change_status(session, feedback=feedback, actor=world["agent"], to="acknowledged")
    triage.add_tag(session, feedback=feedback, actor=world["colleague"], tag="urgent")
    session.commit()
    entries = triage.history(session, feedback_id=feedback.id)
    assert [(e.event.action, e.actor_email) for e in entries] == [
        ("status", world["agent"].email),
        ("tag_add", world["colleague"].email),
    ]
    assert entries[0].detail == {"from": "new", "to": "acknowledged"}
    assert entries[0].event.at is not None


def test_answers_and_notes_are_masked_before_storage(session, world) -> None:
    feedback = make_feedback(session, procedure=world["procedure"])
    actor = world["agent"]
    triage.save_answer(
        session, feedback=feedback, actor=actor, body="Rappelez-nous au 06 12 34 56 78, merci."
    )
    note = triage.add_note(
        session, feedback=feedback, actor=actor, body="L'usager a donné le 0612345678"
    )
    session.commit()
    stored = triage.answer_of(session, feedback.id).body
    assert "06 12 34 56 78" not in stored and "[téléphone masqué]" in stored
    assert stored.startswith("Rappelez-nous au ") and stored.endswith(", merci.")
    session.refresh(note)
    assert "0612345678" not in note.body and "[téléphone masqué]" in note.body
    # Saving the same text again (masked the same way) is not a new edit.
    triage.save_answer(
        session, feedback=feedback, actor=actor, body="Rappelez-nous au 06 12 34 56 78, merci."
    )
    actions = [e.action for e in events(session, feedback)]
    assert actions == ["answer_publish", "note"]


def test_emailing_the_answer_erases_the_address_at_once(session, world) -> None:
    feedback = make_feedback(
        session, procedure=world["procedure"], contact_email="citoyen@example.org"
    )
    untouched = make_feedback(
        session, procedure=world["procedure"], contact_email="autre@example.org"
    )
    actor = world["agent"]
    triage.save_answer(session, feedback=feedback, actor=actor, body="Corrigé.")
    answer_mail.record_answer_emailed(session, feedback=feedback, actor=actor)
    session.commit()
    session.expire_all()
    assert session.get(Feedback, feedback.id).contact_email is None
    assert session.get(Feedback, untouched.id).contact_email == "autre@example.org"
    purge = events(session, feedback)[-1]
    assert purge.action == "contact_email_purged" and purge.actor_label == "system"
    assert json.loads(purge.detail) == {"reason": "answer_emailed"}
    assert "citoyen@example.org" not in " ".join(e.detail for e in events(session, feedback))
    # Sending a second time (the address is already gone) records no second erasure.
    again = session.get(Feedback, feedback.id)
    answer_mail.record_answer_emailed(session, feedback=again, actor=actor)
    session.commit()
    actions = [e.action for e in events(session, feedback)]
    assert actions.count("contact_email_purged") == 1
