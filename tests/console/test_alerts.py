"""Email alerts through a real local SMTP server (aiosmtpd) started by the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from sqlalchemy import update
from sqlmodel import Session, select

from retour.alerts import ALERT_ROW, dispatch, iso_week
from retour.models import AlertSubscription, utcnow
from retour.stats import refresh, state_table
from tests.console.public_data import MARKER
from tests.factories import make_feedback, make_procedure, make_user
from tests.live import free_port
from tests.mail import body


def subscribe(session: Session, user, kind: str, procedure_id: str = "*") -> None:
    session.add(AlertSubscription(user_id=user.id, kind=kind, procedure_id=procedure_id))
    session.commit()


def test_new_submissions_reach_subscribers_of_their_ministry_only(
    engine, session, mail_settings, smtp
) -> None:
    inbox, _ = smtp
    mine = make_procedure(session, title="Carte d’identité")
    other = make_procedure(session, title="Permis de conduire")
    agent = make_user(session, role="agent", ministry_id=mine.ministry_id)
    chooser = make_user(session, role="agent", ministry_id=mine.ministry_id)
    stranger = make_user(session, role="agent", ministry_id=other.ministry_id)
    unsubscribed = make_user(session, role="agent", ministry_id=mine.ministry_id)
    subscribe(session, agent, "new")
    subscribe(session, chooser, "new", procedure_id=other.id)  # not theirs: never sent
    subscribe(session, stranger, "new")
    session.commit()
    assert dispatch(engine, mail_settings).new_submissions == 0  # first run: watermark only

    later = utcnow() + dt.timedelta(minutes=1)  # past the settling delay
    first = make_feedback(session, procedure=mine, satisfaction=1, comment=MARKER)
    make_feedback(session, procedure=mine, honeypot=True)
    make_feedback(session, procedure=mine, status="spam")
    make_feedback(session, procedure=other, satisfaction=3)
    result = dispatch(engine, mail_settings, now=later)
    assert result.new_submissions == 2 and result.emails_sent == 2

    (message,) = inbox.to(agent.email)
    assert message["Subject"] == "[Je fais un retour] 1 nouveau retour"
    text = body(message)
    assert "Carte d’identité" in text and "avis : Mal" in text
    assert f"/console/feedback/{first.id}" in text
    assert MARKER not in text  # never the comment itself
    assert "Permis de conduire" in body(inbox.to(stranger.email)[0])
    assert inbox.to(chooser.email) == [] and inbox.to(unsubscribed.email) == []

    # Never twice: the next run finds nothing new.
    assert dispatch(engine, mail_settings, now=later).emails_sent == 0
    assert len(inbox.messages) == 2


def test_recent_submissions_wait_for_the_next_run(engine, session, mail_settings, smtp) -> None:
    procedure = make_procedure(session)
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "new")
    dispatch(engine, mail_settings)
    make_feedback(session, procedure=procedure)
    assert dispatch(engine, mail_settings).new_submissions == 0  # not settled yet
    assert dispatch(engine, mail_settings, now=utcnow() + dt.timedelta(minutes=1)).emails_sent == 1


def test_old_backfilled_submissions_never_alert(engine, session, mail_settings, smtp) -> None:
    procedure = make_procedure(session)
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "new")
    dispatch(engine, mail_settings)
    make_feedback(session, procedure=procedure, received_at=utcnow() - dt.timedelta(days=30))
    assert dispatch(engine, mail_settings, now=utcnow() + dt.timedelta(minutes=1)).emails_sent == 0


def test_concurrent_dispatchers_send_each_alert_once(engine, session, mail_settings, smtp) -> None:
    inbox, _ = smtp
    procedure = make_procedure(session)
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "new")
    dispatch(engine, mail_settings)
    for _ in range(5):
        make_feedback(session, procedure=procedure)
    session.commit()
    later = utcnow() + dt.timedelta(minutes=1)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(dispatch(engine, mail_settings, now=later)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.new_submissions for r in results) == 5
    assert len(inbox.to(agent.email)) == 1
    assert "5 nouveaux retours" in inbox.to(agent.email)[0]["Subject"]


def test_weekly_digest_once_per_week(engine, session, mail_settings, smtp) -> None:
    inbox, _ = smtp
    procedure = make_procedure(session, title="Carte grise")
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "digest")
    now = utcnow()
    last_week = now - dt.timedelta(days=now.weekday() + 3)
    for satisfaction in (1, 1, 3):
        make_feedback(
            session, procedure=procedure, satisfaction=satisfaction, received_at=last_week
        )
    session.commit()
    refresh(engine)
    dispatch(engine, mail_settings)  # first run ever: marks this week, sends nothing
    assert inbox.messages == []
    with engine.begin() as connection:  # pretend the last digest was last week's
        connection.execute(
            update(state_table)
            .where(state_table.c.id == ALERT_ROW)
            .values(digest_week=iso_week(last_week.date()))
        )
    result = dispatch(engine, mail_settings)
    assert result.digest_week == iso_week(now.date())
    (message,) = inbox.to(agent.email)
    assert message["Subject"] == "[Je fais un retour] Votre bilan de la semaine"
    assert "Carte grise : 3 retours dont 2 « mal » ; 3 en attente de lecture" in body(message)
    assert dispatch(engine, mail_settings).digest_week is None
    assert len(inbox.messages) == 1


def test_failed_email_is_counted_not_raised(engine, session, settings) -> None:
    procedure = make_procedure(session)
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "new")
    broken = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    dispatch(engine, broken)
    make_feedback(session, procedure=procedure)
    result = dispatch(engine, broken, now=utcnow() + dt.timedelta(minutes=1))
    assert result.emails_failed == 1 and result.emails_sent == 0


# --- The console page ---------------------------------------------------------------------


def test_subscribe_and_unsubscribe_in_the_console(client_for, session, ministry) -> None:
    procedure = make_procedure(session, ministry_id=ministry.id, title="Titre de séjour")
    agent = client_for("agent")
    page = agent.get("/console/alerts")
    assert page.status_code == 200 and "Titre de séjour" in page.text
    response = agent.submit(
        "/console/alerts", {"new_scope": "some", "procedure": procedure.id, "digest": "1"}
    )
    assert response.status_code == 303
    rows = session.exec(
        select(AlertSubscription).where(AlertSubscription.user_id == agent.user.id)
    ).all()
    assert {(r.kind, r.procedure_id) for r in rows} == {("new", procedure.id), ("digest", "*")}
    agent.submit("/console/alerts", {"new_scope": "none"})
    session.expire_all()
    assert (
        session.exec(
            select(AlertSubscription).where(AlertSubscription.user_id == agent.user.id)
        ).all()
        == []
    )


def test_cannot_subscribe_to_another_ministrys_procedure(
    client_for, session, other_ministry
) -> None:
    foreign = make_procedure(session, ministry_id=other_ministry.id)
    agent = client_for("agent")
    response = agent.submit("/console/alerts", {"new_scope": "some", "procedure": foreign.id})
    assert response.status_code == 400
    assert foreign.title not in agent.get("/console/alerts").text


def test_alert_page_needs_sign_in_and_csrf(client_for) -> None:
    anonymous = client_for(None)
    assert anonymous.get("/console/alerts").status_code == 303
    agent = client_for("agent")
    assert agent.post("/console/alerts", data={"new_scope": "all"}).status_code == 403


def test_console_background_refreshes_and_dispatches(engine, session, mail_settings) -> None:
    import asyncio

    from sqlalchemy import text

    from console.background import public_tasks

    procedure = make_procedure(session)
    make_feedback(session, procedure=procedure)
    session.commit()

    def states() -> list[int]:
        with engine.connect() as connection:
            query = text("SELECT id FROM stats_state ORDER BY id")
            return list(connection.execute(query).scalars())

    async def run() -> None:
        async with public_tasks(engine, mail_settings, every=0.05):
            for _ in range(200):  # polled: a loaded machine may take seconds over one pass
                await asyncio.sleep(0.05)
                if len(states()) == 2:
                    break

    asyncio.run(run())
    assert states() == [1, 2]  # the summary refreshed, the dispatcher ran
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count FROM procedure_stats WHERE procedure_id = :p"), {"p": procedure.id}
        ).scalar()
    assert count == 1


def test_no_background_work_without_smtp(engine, settings) -> None:
    import asyncio

    from sqlalchemy import text

    from console.background import public_tasks

    async def run() -> None:
        async with public_tasks(engine, settings, every=0.05):
            await asyncio.sleep(0.2)

    asyncio.run(run())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM stats_state")).scalar() == 0


def test_cli_alerts_send(settings, engine, session, smtp) -> None:
    from click.testing import CliRunner

    from retour.alerts import alerts

    _inbox, port = smtp
    procedure = make_procedure(session)
    agent = make_user(session, role="agent", ministry_id=procedure.ministry_id)
    subscribe(session, agent, "new")
    env = {
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
        "RETOUR_SMTP_HOST": "127.0.0.1",
        "RETOUR_SMTP_PORT": str(port),
    }
    first = CliRunner().invoke(alerts, ["send"], env=env)
    assert first.exit_code == 0, first.output
    assert "0 email(s) sent" in first.output  # the first run only sets the watermark
    missing = CliRunner().invoke(alerts, ["send"], env={**env, "RETOUR_SMTP_HOST": ""})
    assert missing.exit_code == 1 and "RETOUR_SMTP_HOST" in missing.output
