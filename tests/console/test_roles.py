"""The role matrix: every route of the app, for every role, anonymous, and across ministries.

Routes are discovered from `create_app()`; a route missing from `EXPECTED` fails the test, so
a new endpoint cannot ship without saying who may use it. To add yours, add a row:

    ("POST", "/console/things/{thing_id:id}"): row(anonymous=LOGIN, admin=DONE, ...,
                                                    other={"agent": 404, ...}),

Values: an HTTP status, a set of acceptable statuses, or LOGIN (303 to /console/login).
`other` is what a member of this ministry gets for the same route pointed at *another*
ministry's object (path parameters substituted): 404, never 403 or 200 — unless they lack the
right for the action altogether. Every POST carries a valid CSRF token and no other field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Route

from retour import problems
from retour.api_keys import create_key
from retour.models import AccessRequest, WebhookDelivery, utcnow
from retour.receipts import new_receipt
from retour.webhooks import register_endpoint
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
# Account managers' pages: another ministry's object is 404 to a manager; others lack the right.
OTHER_MANAGERS_404 = {"ministry_admin": 404, "agent": 403, "viewer": 403}

EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/console"): row(308, 308, 308, 308, 308),
    ("GET", "/console/login"): row(OK, 303, 303, 303, 303),
    ("POST", "/console/login"): row(400, 400, 400, 400, 400),
    # --- inbox and submissions (console-inbox engineer) ---
    ("GET", "/console/"): row(),
    ("POST", "/console/bulk"): row(LOGIN, ACTED, ACTED, ACTED, 403),
    ("GET", "/console/export.csv"): row(),
    ("POST", "/console/export.csv"): row(),
    ("GET", "/console/feedback/{feedback_id:bigid}"): row(other=OTHER_404),
    **{
        ("POST", f"/console/feedback/{{feedback_id:bigid}}/{action}"): row(
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
    ("GET", "/console/problems/{problem_id:id}"): row(other=OTHER_404),
    ("GET", "/console/problems/{problem_id:id}/edit"): row(
        viewer=403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/problems/{problem_id:id}/edit"): row(
        LOGIN, 400, 400, 400, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    **{
        ("POST", f"/console/problems/{{problem_id:id}}/{action}"): row(
            LOGIN, DONE, DONE, DONE, 403, other=OTHER_404
        )
        for action in ("status", "merge", "link", "unlink")
    },
    # --- people ---
    ("GET", "/console/users"): row(**MANAGERS_ONLY),
    ("GET", "/console/users/new"): row(**MANAGERS_ONLY),
    ("POST", "/console/users/new"): row(LOGIN, 400, 400, 403, 403),
    ("POST", "/console/users/{user_id:id}/deactivate"): row(
        LOGIN, DONE, DONE, 403, 403, other={"ministry_admin": 404, "agent": 403, "viewer": 403}
    ),
    ("POST", "/console/users/{user_id:id}/reactivate"): row(
        LOGIN, DONE, DONE, 403, 403, other={"ministry_admin": 404, "agent": 403, "viewer": 403}
    ),
    # --- procedures ---
    ("GET", "/console/procedures"): row(),
    ("GET", "/console/procedures/new"): row(**MANAGERS_ONLY),
    ("POST", "/console/procedures/new"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/procedures/import"): row(**MANAGERS_ONLY),
    ("POST", "/console/procedures/import"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/procedures/import/modele.csv"): row(**MANAGERS_ONLY),
    ("GET", "/console/procedures/{procedure_id:procedure}"): row(other=OTHER_404),
    ("GET", "/console/procedures/{procedure_id:procedure}/edit"): row(
        **MANAGERS_ONLY, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id:procedure}/edit"): row(
        LOGIN, 400, 400, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id:procedure}/archive"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id:procedure}/unarchive"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id:procedure}/origins"): row(
        LOGIN, 400, 400, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    # --- observatory indicators (issue 18) ---
    ("GET", "/console/indicators"): row(),
    # Everyone of the ministry reads the declarations; its managers change them.
    ("GET", "/console/procedures/{procedure_id:procedure}/indicators"): row(
        other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("POST", "/console/procedures/{procedure_id:procedure}/indicators"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_READ_ONLY_FORBIDDEN
    ),
    ("GET", "/console/indicators/import"): row(**MANAGERS_ONLY),
    ("POST", "/console/indicators/import"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/indicators/import/modele.csv"): row(**MANAGERS_ONLY),
    # --- e-mail alerts: each person's own subscriptions (alerts engineer) ---
    ("GET", "/console/alerts"): row(),
    ("POST", "/console/alerts"): row(LOGIN, DONE, DONE, DONE, DONE),
    # --- DINUM ---
    ("GET", "/console/coverage"): row(LOGIN, OK, 403, 403, 403),
    # --- public pages: everyone, no session involved ---
    ("GET", "/"): public(),
    ("GET", "/procedures/{procedure_id:procedure}"): public(other=True),
    ("GET", "/open-data"): public(),
    ("GET", "/open-data/procedures.csv"): public(),
    ("GET", "/open-data/procedures.json"): public(),
    ("GET", "/open-data/answers.csv"): public(),
    ("GET", "/open-data/answers.json"): public(),
    ("GET", "/observatoire"): public(),
    ("GET", "/open-data/procedures-excel.csv"): public(),
    ("GET", "/open-data/indicators.csv"): public(),
    ("GET", "/open-data/indicators.json"): public(),
    ("GET", "/open-data/problems.csv"): public(),
    ("GET", "/open-data/problems.json"): public(),
    ("GET", "/suivi"): public(),
    ("GET", "/suivi/{receipt}"): public(other=True),
    ("GET", "/accessibilite"): public(),
    ("GET", "/favicon.ico"): public(),
    ("GET", "/donnees-personnelles"): public(),
    # ProConnect is not configured in this matrix: its routes do not exist (test_oidc.py).
    ("GET", "/console/oidc/login"): row(404, 404, 404, 404, 404),
    ("GET", "/console/oidc/callback"): row(404, 404, 404, 404, 404),
    ("GET", "/console/users/access"): row(**MANAGERS_ONLY),
    ("POST", "/console/users/access/{request_id:id}/approve"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_MANAGERS_404
    ),
    ("POST", "/console/users/access/{request_id:id}/refuse"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_MANAGERS_404
    ),
    ("POST", "/console/users/domains"): row(LOGIN, DONE, DONE, 403, 403),
    ("POST", "/console/users/domains/remove"): row(LOGIN, 404, 404, 403, 403),
    ("GET", "/console/api-keys"): row(**MANAGERS_ONLY),
    ("POST", "/console/api-keys"): row(LOGIN, 400, 400, 403, 403),
    ("POST", "/console/api-keys/{key_id:id}/revoke"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_MANAGERS_404
    ),
    # Feedback from other channels: anyone who triages; an empty form is refused (400).
    ("GET", "/console/feedback/new"): row(viewer=403),
    ("POST", "/console/feedback/new"): row(LOGIN, 400, 400, 400, 403),
    ("GET", "/console/feedback/import"): row(viewer=403),
    ("POST", "/console/feedback/import"): row(LOGIN, 400, 400, 400, 403),
    ("GET", "/console/webhooks"): row(**MANAGERS_ONLY),
    ("POST", "/console/webhooks"): row(LOGIN, 400, 400, 403, 403),
    ("GET", "/console/webhooks/{endpoint_id:id}"): row(
        LOGIN, OK, OK, 403, 403, other=OTHER_MANAGERS_404
    ),
    ("POST", "/console/webhooks/deliveries/{delivery_id:bigid}/redeliver"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_MANAGERS_404
    ),
    ("POST", "/console/webhooks/{endpoint_id:id}/delete"): row(
        LOGIN, DONE, DONE, 403, 403, other=OTHER_MANAGERS_404
    ),
    # The staff API takes no session: without a key, 401 whoever is signed in.
    ("GET", "/api/v1/staff/openapi.json"): public(),
    ("GET", "/api/v1/staff/feedback"): row(401, 401, 401, 401, 401),
    ("POST", "/api/v1/staff/feedback"): row(401, 401, 401, 401, 401),
    ("GET", "/api/v1/staff/feedback/{feedback_id:bigid}"): row(401, 401, 401, 401, 401),
    ("POST", "/api/v1/staff/feedback/{feedback_id:bigid}/status"): row(401, 401, 401, 401, 401),
    ("POST", "/api/v1/staff/feedback/{feedback_id:bigid}/notes"): row(401, 401, 401, 401, 401),
    ("PUT", "/api/v1/staff/feedback/{feedback_id:bigid}/answer"): row(401, 401, 401, 401, 401),
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
    request_id: int
    key_id: int
    endpoint_id: int
    delivery_id: int
    problem_id: int

    def fill(self, path: str) -> str:
        return (
            path.replace("{procedure_id:procedure}", self.procedure_id)
            .replace("{request_id:id}", str(self.request_id))
            .replace("{key_id:id}", str(self.key_id))
            .replace("{endpoint_id:id}", str(self.endpoint_id))
            .replace("{delivery_id:bigid}", str(self.delivery_id))
            .replace("{feedback_id:bigid}", str(self.feedback_id))
            .replace("{user_id:id}", str(self.user_id))
            .replace("{receipt}", self.receipt)
            .replace("{problem_id:id}", str(self.problem_id))
        )


def objects_in(session: Any, ministry: Any) -> Objects:
    procedure = make_procedure(session, ministry_id=ministry.id)
    feedback = make_feedback(session, procedure=procedure, receipt=new_receipt())
    victim = make_user(session, role="viewer", ministry=ministry)
    request = AccessRequest(email=f"demande-{victim.id}@example.gouv.fr", ministry_id=ministry.id)
    key, _plain = create_key(
        session, ministry_id=ministry.id, name="GRC", can_write=True, actor=victim
    )
    endpoint, _secret = register_endpoint(
        session,
        ministry_id=ministry.id,
        url="https://outil.example.gouv.fr/hook",
        events=["feedback.created"],
        include_comments=False,
        actor=victim,
        allow_private=False,
    )
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event="feedback.created",
        event_key="feedback:1",
        body="{}",
        status="failed",
        give_up_at=utcnow(),
    )
    session.add_all([request, delivery])
    problem = problems.create_problem(
        session,
        actor=make_user(session, role="agent", ministry=ministry),
        ministry_id=ministry.id,
        title="Un problème",
        procedure_ids=[procedure.id],
    )
    session.commit()
    assert request.id and key.id and endpoint.id and delivery.id
    return Objects(
        procedure.id,
        feedback.id,
        feedback.receipt,
        victim.id,
        request.id,
        key.id,
        endpoint.id,
        delivery.id,
        problem.id,
    )


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
    return client.request(method, url, data={"csrf_token": client.csrf_token})


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


# --- Numbers out of range (issue 20): a 404 or a field error, never a 500 ---------------------

# Past PostgreSQL's integer, past bigint, past anything; digits `int()` refuses; and procedure
# ids the register cannot hold (a NUL, which PostgreSQL refuses in a query; too long).
OUT_OF_SHAPE = {
    ":id}": ("2147483648", "9223372036854775808", "99999999999999999999999", "%C2%B2"),
    ":bigid}": ("9223372036854775808", "99999999999999999999999", "%C2%B2"),
    ":procedure}": ("a%00b", "%00", "-a", "a" * 65, "d%C3%A9marche"),
}


@pytest.mark.parametrize("who", ("anonymous", *ROLES))
def test_path_values_out_of_range_or_shape_answer_404(client_for, console_app, who):
    client = client_for(None if who == "anonymous" else who)
    failures = []
    for method, path in discovered_routes(console_app):
        for kind, values in OUT_OF_SHAPE.items():
            if kind not in path:
                continue
            for value in values:
                url = re.sub(r"\{[a-z_]+" + re.escape(kind), value, path)
                response = call(client, method, url)
                if response.status_code != 404:
                    failures.append(f"{method} {url} as {who}: {response.status_code}")
    assert not failures, "\n".join(failures)


HUGE = "99999999999999999999999"
FIELD_ERROR = 400


@pytest.mark.parametrize(
    ("who", "url", "fields", "expected", "says"),
    [
        pytest.param(
            "admin", "/console/users/new",
            {"email": "a@b.fr", "role": "agent", "ministry_id": HUGE},
            FIELD_ERROR, "Choisissez un ministère dans la liste.", id="user-ministry-huge",
        ),
        pytest.param(
            "admin", "/console/users/new",
            {"email": "a@b.fr", "role": "agent", "ministry_id": "2147483648"},
            FIELD_ERROR, "Choisissez un ministère dans la liste.", id="user-ministry-past-int",
        ),
        pytest.param(
            "admin", "/console/users/new",
            {"email": "a@b.fr", "role": "agent", "ministry_id": "²"},
            FIELD_ERROR, "Choisissez un ministère dans la liste.", id="user-ministry-superscript",
        ),
        pytest.param(
            "admin", "/console/procedures/new",
            {"id": "p-1", "title": "T", "url": "https://a.fr", "ministry_id": HUGE},
            FIELD_ERROR, "Choisissez le ministère de la démarche.", id="procedure-ministry-huge",
        ),
        pytest.param(
            "admin", "/console/procedures/new",
            {"id": "p-1", "title": "T", "url": "https://a.fr", "ministry_id": "2147483647"},
            FIELD_ERROR, "Choisissez le ministère de la démarche.", id="procedure-ministry-unknown",
        ),
        pytest.param(
            "agent", "/console/feedback/{feedback_id}/assign", {"assignee": "2147483648"},
            DONE, "erreur=bad_assignee", id="assignee-past-int",
        ),
        pytest.param(
            "agent", "/console/bulk",
            {"action": "assign", "ids": "{feedback_id}", "assignee": HUGE},
            DONE, "erreur=attribution", id="bulk-assignee-huge",
        ),
        pytest.param(
            "agent", "/console/bulk", {"action": "spam", "ids": "9223372036854775808"},
            404, "", id="bulk-id-past-bigint",
        ),
    ],
)  # fmt: skip
def test_ids_out_of_range_in_forms_are_field_errors(
    client_for, session, ministry, who, url, fields, expected, says
):
    own = objects_in(session, ministry)
    client = client_for(who)
    fill = {
        key: value.replace("{feedback_id}", str(own.feedback_id)) for key, value in fields.items()
    }
    response = client.submit(url.replace("{feedback_id}", str(own.feedback_id)), fill)
    assert response.status_code == expected
    where = response.headers.get("location", "") if expected == DONE else response.text
    assert says in where


@pytest.mark.parametrize(
    "url",
    [
        f"/console/users?ministere={HUGE}",
        f"/console/procedures?ministere={HUGE}",
        f"/console/?ministry={HUGE}",
        "/console/?ministry=%C2%B2",
        "/console/?rating=%C2%B2",
        "/console/?after=20240101T000000.000000_%C2%B2",
        f"/console/?after=20240101T000000.000000_{HUGE}",
        "/console/?fait=lot&n=%C2%B2&ignores=0",
        f"/?page={HUGE}",
        "/procedures/{procedure_id}?page=" + HUGE,
    ],
)
def test_numbers_out_of_range_in_query_strings_are_ignored(client_for, session, ministry, url):
    own = objects_in(session, ministry)
    response = client_for("admin").get(url.replace("{procedure_id}", own.procedure_id))
    assert response.status_code == 200
