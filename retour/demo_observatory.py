"""The demo's observatory (issue 18): realistic declared indicators for every demo procedure,
the two previous quarters' editions, and four weeks of page-load histograms, so that pages
show levels, history and flags.

Its own random stream (`SEED`): the rest of the demo draws exactly what it drew before.
Declarations move over the three steps the way they do in life (an audit raises the RGAA
rate, FranceConnect arrives, a help line opens); a few are left over a year old.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Final

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from retour.editions import quarter_of, take_snapshot
from retour.indicators_store import declare
from retour.models import Procedure
from retour.page_loads import MAX_LOAD_MS, PageLoadKey, bucket_of, count_page_loads

SEED: Final = 20260118
HELP_WHERE: Final = (
    "Page « Nous contacter » du site, du lundi au vendredi de 9 h à 17 h",
    "Numéro d’appel indiqué à chaque étape, et espaces France services",
    "Formulaire de contact et tchat pendant les heures ouvrées",
)


def _values(rng: random.Random, url: str) -> list[dict[str, str]]:
    """Three successive states of one procedure's declarations (oldest first)."""
    site = url.split("/")[2] if url.count("/") >= 2 else "www.service-public.fr"
    statement = f"https://{site}/accessibilite"
    rate = rng.choice((22, 35, 48, 55, 62, 70, 78, 85))
    online = rng.choices(("full", "partial", "proactive", "not_online"), (60, 28, 6, 6))[0]
    states = []
    for step in range(3):
        rate = min(100, rate + rng.choice((0, 0, 5, 10, 15)) * (step > 0))
        channels = ["phone", "email", "chat", "counter"][: rng.choice((1, 2, 2, 3)) + (step == 2)]
        states.append(
            {
                "online": online if step or online != "proactive" else "full",
                "accessibility": str(rate),
                "accessibility_detail": statement if rate >= 30 or step else "none",
                "franceconnect": rng.choice(("yes", "yes", "no")) if step else "no",
                "dlnuf": str(max(0, rng.choice((1, 2, 3, 5, 6)) - step)),
                "help": " ".join(channels),
                "help_detail": rng.choice(HELP_WHERE),
                "online_share": str(min(100, rng.choice((35, 48, 60, 72, 86)) + 4 * step)),
                "yearly_volume": str(rng.choice((40_000, 120_000, 600_000, 2_300_000, 6_800_000))),
            }
        )
    return states


def add_observatory(engine: Engine, now: dt.datetime, *, min_count: int = 100) -> int:
    """Declare every demo procedure's indicators and record two past editions; the editions."""
    rng = random.Random(SEED)
    with Session(engine) as session:
        procedures = session.exec(select(Procedure).order_by(Procedure.id)).all()
        plans = {p.id: (p, _values(rng, p.url)) for p in procedures}
        # A few ministries never renewed one declaration: over a year old today.
        stale = {p.id for p in procedures if rng.random() < 0.15}
        steps = (
            now - dt.timedelta(days=190),
            now - dt.timedelta(days=100),
            now - dt.timedelta(days=20),
        )
        for step, at in enumerate(steps):
            for procedure, states in plans.values():
                state = states[step]
                for name in ("online", "accessibility", "franceconnect", "dlnuf", "help",
                             "online_share", "yearly_volume"):  # fmt: skip
                    when = at
                    if procedure.id in stale and name == "online":
                        if step > 0:
                            continue  # declared once, long ago, never renewed
                        when = now - dt.timedelta(days=420)
                    declare(
                        session,
                        procedure_id=procedure.id,
                        ministry_id=procedure.ministry_id,
                        indicator=name,
                        value=state[name],
                        detail=state.get(f"{name}_detail", ""),
                        evidence="Déclaration de démonstration",
                        actor_id=None,
                        actor_label="demo",
                        source="demo",
                        now=when,
                    )
            if step < 2:  # the two past editions, each taken at the start of its quarter
                take_snapshot(session, min_count=min_count, edition=quarter_of(at.date()), now=at)
        _page_loads(session, rng, [p.id for p in procedures], now)
        session.commit()
    return 2


def _page_loads(session: Session, rng: random.Random, ids: list[str], now: dt.datetime) -> None:
    """28 days of page-load histograms, as the loader's view beacons would have made them:
    log-normal around a median typical of each site (0.3 s to 2.5 s)."""
    counts: dict[PageLoadKey, int] = {}
    for procedure_id in ids:
        if rng.random() < 0.2:
            continue  # the button is not on its pages: nothing measured
        median = rng.choice((300, 450, 650, 900, 1400, 2500))
        for days in range(28):
            day = (now - dt.timedelta(days=days)).date()
            for _ in range(rng.randint(20, 60)):
                load = min(MAX_LOAD_MS, int(rng.lognormvariate(math.log(median), 0.5)))
                key = PageLoadKey(procedure_id, day, bucket_of(load))
                counts[key] = counts.get(key, 0) + 1
    count_page_loads(session.connection(), counts)
