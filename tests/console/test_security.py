"""Sessions, CSRF, headers, throttling and escaping: the console's defences, attacked for real."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from console.security import CSP
from console.throttle import LoginThrottle
from tests.console.conftest import PASSWORD, StaffClient, csrf_from, sign_in
from tests.factories import make_feedback, make_ministry, make_procedure, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"


# --- Sessions ----------------------------------------------------------------------------


def session_cookie(response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    found = [c for c in cookies if c.startswith("retour_session=")]
    assert found, f"no session cookie in {cookies}"
    return found[0]


def test_session_cookie_flags(client_for, session):
    user = make_user(session, role="agent")
    client = client_for(None)
    response = sign_in(client, user.email)
    cookie = session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert "secure" not in cookie  # plain HTTP in this test: a Secure cookie would be lost


def test_session_cookie_is_secure_over_https(console_app, session):
    user = make_user(session, role="agent")
    with StaffClient(console_app, base_url="https://testserver", follow_redirects=False) as client:
        response = sign_in(client, user.email)
        assert response.status_code == 303
        assert "; secure" in session_cookie(response).lower()


def test_tampered_cookie_is_anonymous(client_for):
    agent = client_for("agent")
    value = agent.cookies.get("retour_session")
    agent.cookies.clear()
    agent.cookies.set("retour_session", value[:-3] + "AAA", path="/console")
    assert agent.get("/console/procedures").status_code == 303


def test_sign_out_ends_the_session_even_for_a_copied_cookie(client_for, console_app):
    agent = client_for("agent")
    stolen = agent.cookies.get("retour_session")
    response = agent.submit("/console/logout")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert agent.get("/console/procedures").status_code == 303
    with StaffClient(console_app, follow_redirects=False) as thief:
        thief.cookies.set("retour_session", stolen, path="/console")
        assert thief.get("/console/procedures").status_code == 303


def test_anonymous_is_sent_to_login_with_next(client_for):
    response = client_for(None).get("/console/procedures?archivees=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/procedures%3Farchivees%3D1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\x01x",
    ],
)
def test_next_never_leaves_the_site(client_for, session, target):
    user = make_user(session, role="agent")
    client = client_for(None)
    token = csrf_from(client.get("/console/login").text)
    response = client.post(
        "/console/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"


def test_successful_sign_in_goes_to_next_and_records_last_login(client_for, session):
    user = make_user(session, role="viewer")
    client = client_for(None)
    token = csrf_from(client.get("/console/login?next=/console/procedures").text)
    response = client.post(
        "/console/login",
        data={
            "email": user.email.upper(),
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/console/procedures",
        },
    )
    assert response.headers["location"] == "/console/procedures"
    session.refresh(user)
    assert user.last_login_at is not None
    assert user.password_hash.startswith("$argon2id$") and "m=8," not in user.password_hash


def test_wrong_password_and_unknown_account_look_the_same(client_for, session):
    user = make_user(session, role="agent")
    wrong = sign_in(client_for(None), user.email, "not the password")
    unknown = sign_in(client_for(None), "nobody@example.gouv.fr", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    message = "Adresse électronique ou mot de passe incorrect."
    assert message in wrong.text and message in unknown.text


# --- CSRF --------------------------------------------------------------------------------


def test_post_without_token_is_refused(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    response = manager.post(f"/console/procedures/{procedure.id}/archive")
    assert response.status_code == 403
    assert "expiré" in response.text
    session.refresh(procedure)
    assert procedure.active


def test_post_with_another_sessions_token_is_refused(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager, other = client_for("ministry_admin"), client_for("ministry_admin")
    response = manager.post(
        f"/console/procedures/{procedure.id}/archive", data={"csrf_token": other.csrf_token}
    )
    assert response.status_code == 403
    session.refresh(procedure)
    assert procedure.active


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
        {"origin": "http://testserver.evil.example"},
    ],
    ids=["origin", "null-origin", "referer", "lookalike-host"],
)
def test_cross_site_post_is_refused_even_with_the_token(client_for, session, ministry, headers):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    response = manager.post(
        f"/console/procedures/{procedure.id}/archive",
        data={"csrf_token": manager.csrf_token},
        headers=headers,
    )
    assert response.status_code == 403
    session.refresh(procedure)
    assert procedure.active


def test_same_site_post_with_token_and_origin_works(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    response = manager.post(
        f"/console/procedures/{procedure.id}/archive",
        data={"csrf_token": manager.csrf_token},
        headers={"origin": "http://testserver"},
    )
    assert response.status_code == 303


def test_token_in_header_works_for_scripts(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    response = manager.post(
        f"/console/procedures/{procedure.id}/archive", headers={"x-csrf-token": manager.csrf_token}
    )
    assert response.status_code == 303


def test_login_form_itself_needs_the_token(client_for, session):
    user = make_user(session, role="agent")
    client = client_for(None)
    response = client.post("/console/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_huge_body_is_refused_not_buffered_forever(client_for):
    manager = client_for("ministry_admin")
    response = manager.post(
        "/console/procedures/import",
        files={"fichier": ("big.csv", b"x" * (6 * 1024 * 1024), "text/csv")},
        data={"csrf_token": manager.csrf_token},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("encoding", ("urlencoded", "multipart"))
def test_a_null_character_in_a_form_is_refused_with_a_reason(
    client_for, session, ministry, encoding
):
    # PostgreSQL stores no text holding one (a 500 on notes, tags, answers, accounts…).
    feedback = make_feedback(session, procedure=make_procedure(session, ministry_id=ministry.id))
    agent = client_for("agent")
    fields = {"body": "une note\x00", "csrf_token": agent.csrf_token}
    url = f"/console/feedback/{feedback.id}/notes"
    if encoding == "multipart":
        response = agent.post(url, files={name: (None, value) for name, value in fields.items()})
    else:
        response = agent.post(url, data=fields)
    assert response.status_code == 400
    assert "caractère nul" in response.text
    assert agent.get(f"/console/feedback/{feedback.id}").status_code == 200


def test_a_null_character_in_an_imported_file_is_an_error_of_its_line(client_for):
    admin = client_for("admin")
    response = admin.post(
        "/console/procedures/import",
        files={
            "fichier": ("a.csv", b"id,title,ministry,url\nab,T,M\x00,https://a.fr\n", "text/csv")
        },
        data={"csrf_token": admin.csrf_token},
    )
    assert response.status_code == 400
    assert "caractère nul" in response.text


# --- Headers and no cookies for citizens ---------------------------------------------------


@pytest.mark.parametrize("path", ["/console/login", "/console/procedures", "/console/nowhere"])
def test_security_headers_on_console_pages(client_for, path):
    response = client_for("agent").get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "unsafe-inline" not in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


def test_pages_outside_the_console_set_no_cookie(client_for):
    client = client_for(None)
    for path in ("/?lang=en", "/page-qui-n-existe-pas?lang=en", "/static/css/console.css"):
        response = client.get(path)
        assert "set-cookie" not in response.headers, path


def test_language_choice_is_remembered_for_staff_only(client_for):
    client = client_for(None)
    response = client.get("/console/login?lang=en")
    assert '<html lang="en"' in response.text
    assert "lang=en" in response.headers.get("set-cookie", "")
    assert '<html lang="en"' in client.get("/console/login").text


def test_templates_have_no_inline_script_or_style():
    """The CSP forbids inline code: a template with some would break in the browser."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handlers = re.compile(r"\son[a-z]+\s*=", re.I)
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not inline_script.search(text), f"inline <script> in {path.name}"
        assert "<style" not in text.lower(), f"<style> in {path.name}"
        assert not re.search(r"\sstyle\s*=", text, re.I), f"style= attribute in {path.name}"
        assert not handlers.search(text), f"inline event handler in {path.name}"


# --- Throttling --------------------------------------------------------------------------


def test_five_failures_lock_the_account_even_for_the_right_password(client_for, session):
    user = make_user(session, role="agent")
    client = client_for(None)
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password!").status_code == 400
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Trop de tentatives" in response.text
    other = make_user(session, role="agent")
    assert sign_in(client_for(None), other.email).status_code == 303  # others are unaffected


def test_one_address_trying_many_accounts_is_stopped(client_for, session):
    client = client_for(None)
    for n in range(20):
        sign_in(client, f"inconnu{n}@example.gouv.fr", "wrong password!")
    user = make_user(session, role="agent")
    assert sign_in(client, user.email).status_code == 429


def test_success_clears_the_account_counter(client_for, session):
    user = make_user(session, role="agent")
    client = client_for(None)
    for _ in range(4):
        sign_in(client, user.email, "wrong password!")
    assert sign_in(client, user.email).status_code == 303
    fresh = client_for(None)
    for _ in range(4):
        assert sign_in(fresh, user.email, "wrong password!").status_code == 400


def test_throttle_counters_are_shared_through_redis(redis_url):
    prefix = f"retour-test-{uuid.uuid4().hex}"
    first, second = LoginThrottle(redis_url, prefix), LoginThrottle(redis_url, prefix)
    for _ in range(5):
        assert first.retry_after("a@b.fr", "192.0.2.1") is None
        first.failed("a@b.fr", "192.0.2.1")
    assert second.retry_after("a@b.fr", "198.51.100.7") is not None
    second.succeeded("a@b.fr")
    assert first.retry_after("a@b.fr", "198.51.100.7") is None


# --- Escaping ----------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}{% raw %}",
    "<svg onload=alert(1)>",
    "'';!--\"<XSS>=&{()}",
    "</textarea><script>alert(1)</script>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_is_shown_escaped_everywhere(client_for, session, payload):
    ministry = make_ministry(session, slug=f"m-{uuid.uuid4().hex[:8]}", name=f"Ministère {payload}")
    procedure = make_procedure(
        session,
        ministry_id=ministry.id,
        title=f"Titre {payload}",
        description=f"Description {payload}",
        button_label=payload[:80],
        url="https://www.example.gouv.fr/?q=" + payload.replace(" ", "+"),
    )
    make_user(session, role="agent", ministry=ministry, email=f"x{uuid.uuid4().hex[:6]}@e.fr")
    manager = client_for("ministry_admin", ministry=ministry)
    admin = client_for("admin")
    pages = [
        manager.get("/console/procedures").text,
        manager.get(f"/console/procedures/{procedure.id}").text,
        manager.get(f"/console/procedures/{procedure.id}/edit").text,
        manager.get("/console/users").text,
        admin.get("/console/procedures").text,
        admin.get("/console/users/new").text,
    ]
    for page in pages:
        if any(c in payload for c in "<>\"'&"):
            assert payload not in page  # markup characters always come out escaped
        assert_inert(page)
        assert "Titre 49" not in page  # no template evaluation of stored text
    if payload.startswith("{{"):
        assert "Titre {{7*7}}" in pages[0]


class ActiveContent(HTMLParser):
    """Collects what a browser would run: scripts, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline script")
        if tag in ("svg", "img", "xss", "iframe"):
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}>")


def assert_inert(page: str) -> None:
    parser = ActiveContent()
    parser.feed(page)
    assert parser.found == []


def test_hostile_next_is_escaped_in_the_login_form(client_for):
    page = client_for(None).get('/console/login?next=/"><script>alert(1)</script>').text
    assert "<script>alert(1)</script>" not in page
    assert 'value="/&#34;&gt;&lt;script&gt;' in page


def test_session_expires_after_twelve_idle_hours(client_for, console_app, session):
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from tests.conftest import TEST_SECRET

    agent = client_for("agent")

    class ThirteenHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 13 * 3600

    def cookie(signer_class: type) -> str:
        serializer = URLSafeTimedSerializer(TEST_SECRET, salt="session", signer=signer_class)
        return serializer.dumps(
            {"uid": agent.user.id, "ver": 0, "csrf": "x", "t": int(time.time())}
        )

    with StaffClient(console_app, follow_redirects=False) as client:
        client.cookies.set("retour_session", cookie(TimestampSigner), path="/console")
        assert client.get("/console/procedures").status_code == 200  # a fresh one works
        client.cookies.clear()
        client.cookies.set("retour_session", cookie(ThirteenHoursAgo), path="/console")
        assert client.get("/console/procedures").status_code == 303
