"""The role matrix: every route of the app, for every role, anonymous, and across ministries.

Routes are discovered from `create_app()`; a route missing from `EXPECTED` fails the test, so
a new endpoint cannot ship without saying who may use it. To add yours, add a row:

    ("POST", "/console/things/{thing_id:int}"): row(anonymous=LOGIN, admin=DONE, ...,
                                                    other={"agent": 404, ...}),

Values: an HTTP status, a set of acceptable statuses, or LOGIN (303 to /console/login).
`other` is what a member of this ministry gets for the same route pointed at *another*
ministry's object (path parameters substituted): 404, never 403 or 200 — unless they lack the
right for the action altogether. Every POST carries a valid CSRF token and no other field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Route

from retour import problems
from retour.receipts import new_receipt
from tests.factories import make_feedback, make_procedure, make_user

LOGIN = "login"
OK = 200
DONE = 303  # an action done, or refused with a message, and redirected back
ROLES = ("admin", "ministry_admin", "agent", "viewer")
NON_ADMIN = ROLES[1:]


def row(
    anonymous: Any = LOGIN,
    admin: Any = OK,
    ministry_admin: Any = OK,
    agent: Any = OK,
    viewer: Any = OK,
    other: Any = None,
) -> dict[str, Any]:
    return {
        "anonymous": anonymous,
        "admin": admin,
        "ministry_admin": ministry_admin,
        "agent": agent,
        "viewer": viewer,
        "other": other,
    }


def public(**other: Any) -> dict[str, Any]:
    return row(OK, OK, OK, OK, OK, other=dict.fromkeys(NON_ADMIN, OK) if other else None)


# Roles that may act answer the empty form with a redirect or a 400 (nothing valid was sent).
ACTED = {303, 400}
MANAGERS_ONLY = {"agent": 403, "viewer": 403}
OTHER_404 = dict.fromkeys(NON_ADMIN, 404)
# Another ministry's object: 404 first, whatever the role (its existence must not leak).
OTHER_READ_ONLY_FORBIDDEN = {"ministry_admin": 404, "agent": 404, "viewer": 404}

EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/console"): row(308, 308, 308, 308, 308),
    ("GET", "/console/login"): row(OK, 303, 303, 303, 303),
    ("POST", "/console/login"): row(400, 400, 400, 400, 400),
    # --- inbox and submissions (console-inbox engineer) ---
    ("GET", "/console/"): row(),
    ("POST", "/console/bulk"): row(LOGIN, ACTED, ACTED, ACTED, 403),
    ("GET", "/console/export.csv"): row(),
    ("GET", "/console/feedback/{feedback_id:int}"): row(other=OTHER_404),
    **{
        ("POST", f"/console/feedback/{{feedback_id:int}}/{action}"): row(
            LOGIN, ACTED, ACTED, ACTED, 403, other=OTHER_404
        )
        for action in ("status", "assign", "notes", "tags", "tags/remove", "answer", "answer/email")
    },
    # --- problems (issue 17) ---
    ("GET", "/console/problems"): row(),
    ("GET", "/console/problems/new"): row(viewer=403),
    ("POST", "/console/problems/new"): row(LOGIN, 400, 400, 400, 403),
    ("POST", "/console/problems/link"): row(LOGIN, 400, 400, 400, 403),
    ("POST", "/console/problems/link-all"): row(LOGIN, 400, 400, 400, 403),
    ("GET", "/console/problems/{problem_id:int}"): row(other=OTHER_404),
    ("GET", "/console/problems/{problem_id:int}/edit"): row(
        viewer=403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/problems/{problem_id:int}/edit"): row(
        LOGIN, 400, 400, 400, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    **{
        ("POST", f"/console/problems/{{problem_id:int}}/{action}"): row(
            LOGIN, DONE, DONE, DONE, 403, other=OTHER_404
        )
        for action in ("status", "merge", "link", "unlink")
    },
    # --- people ---
    ("GET", "/console/users"): row(**MANAGERS_ONLY),
    ("GET", "/console/users/new"): row(**MANAGERS_ONLY),
    ("POST", "/console/users/new"): row(LOGIN, 400, 400, 403, 403),
    ("POST", "/console/users/{user_id:int}/deactivate"): row(
        LOGIN, DONE, DONE, 403, 403, other={"ministry_admin": 404, "agent": 403, "viewer": 403}
    ),
    ("POST", "/console/users/{user_id:int}/reactivate"): row(
        LOGIN, DONE, DONE, 403, 403, other={"ministry_admin": 404, "agent": 403, "viewer": 403}
    ),
    # --- procedures ---
    ("GET", "/console/procedures"): row(),
    ("GET", "/console/procedures/new"): row(**MANAGERS_ONLY),
    ("POST", "/console/procedures/new"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/procedures/import"): row(**MANAGERS_ONLY),
    ("POST", "/console/procedures/import"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/procedures/{procedure_id}"): row(other=OTHER_404),
    ("GET", "/console/procedures/{procedure_id}/edit"): row(
        **MANAGERS_ONLY, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id}/edit"): row(
        LOGIN, 400, 400, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id}/archive"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id}/unarchive"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    # --- e-mail alerts: each person's own subscriptions (alerts engineer) ---
    ("GET", "/console/alerts"): row(),
    ("POST", "/console/alerts"): row(LOGIN, DONE, DONE, DONE, DONE),
    # --- DINUM ---
    ("GET", "/console/coverage"): row(LOGIN, OK, 403, 403, 403),
    # --- public pages: everyone, no session involved ---
    ("GET", "/"): public(),
    ("GET", "/procedures/{procedure_id}"): public(other=True),
    ("GET", "/open-data"): public(),
    ("GET", "/open-data/procedures.csv"): public(),
    ("GET", "/open-data/procedures.json"): public(),
    ("GET", "/open-data/answers.csv"): public(),
    ("GET", "/open-data/answers.json"): public(),
    ("GET", "/open-data/problems.csv"): public(),
    ("GET", "/open-data/problems.json"): public(),
    ("GET", "/suivi"): public(),
    ("GET", "/suivi/{receipt}"): public(other=True),
    ("GET", "/accessibilite"): public(),
    ("GET", "/favicon.ico"): public(),
    ("GET", "/donnees-personnelles"): public(),
    # Last: it ends the session.
    ("POST", "/console/logout"): row(303, 303, 303, 303, 303),
}


def discovered_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route.path))
    return found


def test_every_route_has_an_expected_row(console_app):
    missing = [r for r in discovered_routes(console_app) if r not in EXPECTED]
    assert not missing, f"add these routes to EXPECTED in {__file__}: {missing}"
    gone = [r for r in EXPECTED if r not in discovered_routes(console_app)]
    assert not gone, f"these routes no longer exist; remove them from EXPECTED: {gone}"


@dataclass
class Objects:
    procedure_id: str
    feedback_id: int
    receipt: str
    user_id: int
    problem_id: int

    def fill(self, path: str) -> str:
        return (
            path.replace("{procedure_id}", self.procedure_id)
            .replace("{feedback_id:int}", str(self.feedback_id))
            .replace("{user_id:int}", str(self.user_id))
            .replace("{receipt}", self.receipt)
            .replace("{problem_id:int}", str(self.problem_id))
        )


def objects_in(session: Any, ministry: Any) -> Objects:
    procedure = make_procedure(session, ministry_id=ministry.id)
    feedback = make_feedback(session, procedure=procedure, receipt=new_receipt())
    victim = make_user(session, role="viewer", ministry=ministry)
    problem = problems.create_problem(
        session,
        actor=make_user(session, role="agent", ministry=ministry),
        ministry_id=ministry.id,
        title="Un problème",
        procedure_ids=[procedure.id],
    )
    session.commit()
    return Objects(procedure.id, feedback.id, feedback.receipt, victim.id, problem.id)


def matches(expected: Any, response: Any) -> bool:
    if expected == LOGIN:
        return response.status_code == 303 and response.headers["location"].startswith(
            "/console/login"
        )
    if isinstance(expected, set):
        return response.status_code in expected
    return bool(response.status_code == expected)


def call(client: Any, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": client.csrf_token})


@pytest.mark.parametrize("who", ("anonymous", *ROLES))
def test_role_matrix(client_for, console_app, session, ministry, other_ministry, who):
    own = objects_in(session, ministry)
    theirs = objects_in(session, other_ministry)
    client = client_for(None if who == "anonymous" else who)
    failures = []
    routes = set(discovered_routes(console_app))
    # In the table's order, so that signing out comes last.
    for (method, path), expected in EXPECTED.items():
        if (method, path) not in routes:
            continue  # reported by test_every_route_has_an_expected_row
        checks = [(own, expected[who])]
        if "{" in path and who in NON_ADMIN and expected["other"] is not None:
            checks.append((theirs, expected["other"][who]))
        for objects, wanted in checks:
            response = call(client, method, objects.fill(path))
            if not matches(wanted, response):
                where = "other ministry" if objects is theirs else "own ministry"
                failures.append(
                    f"{method} {path} as {who} ({where}): got {response.status_code}, "
                    f"expected {wanted}"
                )
    assert not failures, "\n".join(failures)
