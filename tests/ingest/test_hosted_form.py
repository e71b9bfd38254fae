"""GET, POST /r/{procedure_id}: the hosted no-JavaScript form, real HTTP, real database."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.app import create_app
from retour.models import Procedure
from retour.redaction import mask
from retour.settings import Settings
from retour.signing import FORM_TOKEN_SALT
from tests.conftest import TEST_SECRET
from tests.factories import make_procedure
from tests.ingest.conftest import stored_feedback
from tests.live import serve_in_thread

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
RECEIPT = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}")
MASKING_ON = bool(mask("écrivez-moi à jean.dupont@example.fr").categories)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


def show(client: httpx.Client, procedure: Procedure, **params: str) -> dict[str, str]:
    response = client.get(f"/r/{procedure.id}", params=params)
    assert response.status_code == 200, response.text
    return hidden_fields(response.text)


def send(
    client: httpx.Client, procedure: Procedure, fields: dict[str, str], **typed: str
) -> httpx.Response:
    return client.post(f"/r/{procedure.id}", data={**fields, **typed})


def expired_token(procedure_id: str) -> str:
    class ThreeHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 3600

    return URLSafeTimedSerializer(TEST_SECRET, salt=FORM_TOKEN_SALT, signer=ThreeHoursAgo).dumps(
        procedure_id
    )


def test_form_is_plain_html_with_a_token_and_no_cookie(
    client: httpx.Client, procedure: Procedure
) -> None:
    response = client.get(f"/r/{procedure.id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in response.headers
    assert "<script" not in response.text
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none'
    assert '<html lang="fr"' in response.text
    fields = hidden_fields(response.text)
    assert fields["token"] and uuid.UUID(fields["client_id"]).version == 7  # time-ordered
    for value in ("3", "2", "1"):
        assert f'id="satisfaction-{value}"' in response.text
    for kind in ("complaint", "change_request", "malfunction", "omission", "praise", "other"):
        assert f'value="{kind}"' in response.text
    # Nothing typed or pasted is ever cut by the browser: a text too long is refused whole.
    assert "maxlength" not in response.text
    assert "2 000 caractères au plus" in response.text
    # A way back to the procedure, without sending anything.
    assert f'href="{procedure.url}"' in response.text


def test_unknown_procedure_is_a_404_page(client: httpx.Client) -> None:
    for path in ("/r/no-such-procedure", "/r/%3Cscript%3E"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Démarche introuvable" in response.text
        assert "<script>" not in response.text


def test_a_valid_post_stores_once_and_thanks_with_the_receipt(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    typed = {
        "satisfaction": "1",
        "kind": "malfunction",
        "comment": "Le bouton Valider ne fait rien.",
    }
    response = send(client, procedure, fields, **typed)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/r/{procedure.id}/merci?receipt=")
    rows = stored_feedback(engine)
    assert len(rows) == 1
    row = rows[0]
    assert (row.satisfaction, row.kind, row.comment) == (1, "malfunction", typed["comment"])
    assert row.client_id == fields["client_id"] and row.contact_email is None

    # Sent twice (double click, back and resend): one submission, the same receipt.
    again = send(client, procedure, fields, **typed)
    assert again.headers["location"] == location
    assert len(stored_feedback(engine)) == 1

    thanks = client.get(location)
    assert thanks.status_code == 200
    assert row.receipt in thanks.text
    assert f'href="/suivi/{row.receipt}"' in thanks.text
    assert 'role="status"' in thanks.text


def test_errors_are_shown_inline_and_keep_what_was_typed(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    hostile = "<script>alert(1)</script> « ça ne marche pas »"
    response = send(
        client,
        procedure,
        fields,
        comment=hostile,
        kind="omission",
        wants_answer="1",
        contact_email="",
    )
    assert response.status_code == 422
    html = response.text
    assert "<title>Erreur\u202f: " in html
    assert 'role="alert"' in html
    # Both problems at once, each tied to its field through the container of its messages
    # (hosted.css hides a message once its field is fixed; a hidden one is not read either).
    assert "Indiquez comment s’est passée votre démarche." in html
    assert 'aria-labelledby="satisfaction-legend satisfaction-messages"' in html
    assert re.search(
        r'aria-describedby="contact-email-hint contact-email-messages" required pattern="[^"]+"',
        html,
    )
    email_messages = html[html.index('id="contact-email-messages"') :].split("</div>")[0]
    assert "Saisissez votre adresse électronique pour recevoir une réponse." in email_messages
    # No aria-invalid: no script could take it away once the field is fixed.
    assert "aria-invalid" not in html
    assert 'href="#satisfaction-3"' in html
    # What was typed comes back, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; « ça ne marche pas »</textarea>" in html
    assert "<script>alert(1)" not in html
    assert 'value="omission" checked' in html
    assert 'name="wants_answer" value="1" checked' in html
    assert hidden_fields(html)["client_id"] == fields["client_id"]
    assert stored_feedback(engine) == []


def test_an_invalid_email_is_refused_by_the_shared_validation(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    response = send(
        client, procedure, fields, satisfaction="2", wants_answer="1", contact_email="jean@"
    )
    assert response.status_code == 422
    assert "Saisissez une adresse électronique valide" in response.text
    assert 'value="jean@"' in response.text
    assert stored_feedback(engine) == []
    fixed = send(
        client,
        procedure,
        fields,
        satisfaction="2",
        wants_answer="1",
        contact_email="jean@example.fr",
    )
    assert fixed.status_code == 303
    assert "answer=j%E2%80%A6%40example.fr" in fixed.headers["location"]
    assert stored_feedback(engine)[0].contact_email == "jean@example.fr"
    # The receipt says where the answer will go, without giving the address away.
    thanks = client.get(fixed.headers["location"]).text
    assert "l’administration vous écrira à l’adresse j…@example.fr." in thanks
    assert "jean@example.fr" not in thanks


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(expired_token, id="expired"),
        pytest.param(lambda pid: "forged." + "A" * 30, id="forged"),
    ],
)
def test_a_refused_token_shows_the_form_again_with_a_fresh_one(
    client: httpx.Client, procedure: Procedure, engine: Engine, make_token: Any
) -> None:
    fields = show(client, procedure)
    old = {**fields, "token": make_token(procedure.id)}
    response = send(client, procedure, old, satisfaction="3", comment="Très bien, merci.")
    assert response.status_code == 200
    assert "vérifiez votre message puis envoyez-le à nouveau" in response.text
    assert "Très bien, merci.</textarea>" in response.text
    assert 'value="3" required checked' in response.text
    refreshed = hidden_fields(response.text)
    assert refreshed["token"] != old["token"]
    assert stored_feedback(engine) == []
    # Sending the re-rendered form as it is goes through.
    done = send(client, procedure, refreshed, satisfaction="3", comment="Très bien, merci.")
    assert done.status_code == 303
    assert len(stored_feedback(engine)) == 1


def test_a_token_for_another_procedure_is_not_enough(
    client: httpx.Client, procedure: Procedure, session: Session, engine: Engine
) -> None:
    other = make_procedure(session)
    fields = show(client, other)
    response = send(client, procedure, fields, satisfaction="3")
    assert response.status_code == 200  # shown again with a token for this procedure
    assert stored_feedback(engine) == []


def test_the_honeypot_is_accepted_silently_but_kept_out(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    response = send(client, procedure, fields, satisfaction="3", website="http://spam.example")
    assert response.status_code == 303
    row = stored_feedback(engine)[0]
    assert row.honeypot and row.status == "spam"


def test_english(client: httpx.Client, procedure: Procedure) -> None:
    page = client.get(f"/r/{procedure.id}", params={"lang": "en"})
    assert '<html lang="en"' in page.text
    assert "How did it go?" in page.text and "Give feedback" in page.text
    fields = hidden_fields(page.text)
    assert fields["lang"] == "en"
    response = client.post(f"/r/{procedure.id}?lang=en", data={**fields, "comment": "x"})
    assert response.status_code == 422
    assert "Say how it went." in response.text
    ok = client.post(f"/r/{procedure.id}?lang=en", data={**fields, "satisfaction": "3"})
    thanks = client.get(ok.headers["location"])
    assert "Thank you for your feedback!" in thanks.text
    # Without ?lang, the browser's language decides.
    assert (
        "How did it go?"
        in client.get(f"/r/{procedure.id}", headers={"Accept-Language": "en-GB"}).text
    )


def test_procedure_title_is_escaped(client: httpx.Client, session: Session) -> None:
    procedure = make_procedure(session, title="<img src=x onerror=alert(1)> Démarche")
    html = client.get(f"/r/{procedure.id}").text
    assert "&lt;img src=x onerror=alert(1)&gt; Démarche" in html
    assert "<img src=x" not in html


def test_oversized_body_is_refused_without_storing(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    response = send(client, procedure, fields, satisfaction="3", comment="a" * 70_000)
    assert response.status_code == 413
    assert stored_feedback(engine) == []


def test_thanks_page_needs_a_real_looking_receipt(
    client: httpx.Client, procedure: Procedure
) -> None:
    response = client.get(f"/r/{procedure.id}/merci", params={"receipt": "<script>"})
    assert response.status_code == 404
    assert "<script>" not in response.text


@pytest.mark.skipif(not MASKING_ON, reason="the personal-data rules have not landed yet")
def test_personal_data_notice_after_errors_and_on_the_thanks_page(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    comment = "Rappelez-moi : jean.dupont@example.fr"
    response = send(client, procedure, fields, comment=comment)
    assert response.status_code == 422
    assert 'id="comment-pii" class="retour-pii" aria-live="polite"' in response.text
    assert "semble contenir une adresse électronique" in response.text
    done = send(
        client, procedure, {**fields, "pii_seen": "email"}, comment=comment, satisfaction="2"
    )
    thanks = client.get(done.headers["location"])
    assert "semble contenir une adresse électronique" in thanks.text
    assert "jean.dupont" not in stored_feedback(engine)[0].comment


@pytest.mark.skipif(not MASKING_ON, reason="the personal-data rules have not landed yet")
def test_personal_data_is_pointed_out_before_anything_is_sent(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    comment = "Mon numéro : 06 12 34 56 78, mon courriel jean.dupont@example.fr"
    first = send(client, procedure, fields, comment=comment, satisfaction="1")
    assert first.status_code == 200
    assert stored_feedback(engine) == []
    html = first.text
    assert "Votre retour n’est pas encore envoyé" in html
    # Two kinds of data: the notice agrees in number.
    assert "une adresse électronique et un numéro de téléphone" in html
    assert "Ces informations seront masquées\u202f: l’administration ne les verra pas." in html
    assert f"{comment}</textarea>" in html.replace("&#39;", "'")
    seen = hidden_fields(html)
    assert seen["pii_seen"] == "email phone"
    # Sent as it is: stored once, masked.
    done = send(client, procedure, seen, comment=comment, satisfaction="1")
    assert done.status_code == 303
    [row] = stored_feedback(engine)
    assert "06 12" not in row.comment and "jean.dupont" not in row.comment
    # Changed to hold other data: pointed out again before sending.
    other = show(client, procedure)
    other["pii_seen"] = "email"
    again = send(client, procedure, other, comment=comment, satisfaction="1")
    assert again.status_code == 200 and len(stored_feedback(engine)) == 1


def test_a_failed_post_is_a_page_the_browser_can_go_back_to(
    client: httpx.Client, procedure: Procedure
) -> None:
    fields = show(client, procedure)
    failed = send(client, procedure, fields, comment="Sans note")
    assert failed.status_code == 422
    # Kept by the browser alone (no shared cache), so Back needs no resubmission.
    assert failed.headers["cache-control"] == "private, no-cache"
    refreshed = send(client, procedure, {**fields, "token": "forged." + "A" * 30}, satisfaction="3")
    assert refreshed.headers["cache-control"] == "private, no-cache"
    # The form itself and the receipt stay out of every cache (a fresh token each time).
    assert client.get(f"/r/{procedure.id}").headers["cache-control"] == "no-store"


def test_a_comment_too_long_is_given_back_whole_with_its_length(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    long_text = "Le formulaire plante. " * 110  # 2,420 characters
    response = send(client, procedure, fields, comment=long_text, satisfaction="1")
    assert response.status_code == 422
    assert "Votre message fait 2\u202f420 caractères" in response.text
    assert f"{long_text}</textarea>" in response.text
    assert 'maxlength="2000"' in response.text  # now the browser can tell it is short enough
    assert stored_feedback(engine) == []


def test_the_receipt_links_back_to_the_procedure_and_shows_only_a_real_hint(
    client: httpx.Client, procedure: Procedure
) -> None:
    fields = show(client, procedure)
    done = send(client, procedure, fields, satisfaction="3")
    thanks = client.get(done.headers["location"]).text
    assert f'href="{procedure.url}"' in thanks
    assert "vous écrira" not in thanks  # no answer asked for
    location = done.headers["location"]
    for forged in ("Cliquez ici", "<b>x</b>@evil", "a…@exa mple.fr"):
        page = client.get(location, params={"answer": forged}).text
        assert forged not in page and "vous écrira à l’adresse électronique indiquée" not in page


def test_rate_limited_like_the_api_keeping_what_was_typed(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    strict = dataclasses.replace(settings, rate_limit="2/minute")
    with serve_in_thread(create_app(strict)) as server, httpx.Client(base_url=server.url) as client:
        fields = show(client, procedure)
        for _ in range(2):
            assert send(client, procedure, fields, satisfaction="3").status_code == 303
        fields = show(client, procedure)  # a new form: a new submission
        response = send(client, procedure, fields, satisfaction="3", comment="Encore un mot.")
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "Patientez une minute" in response.text
        assert "Encore un mot.</textarea>" in response.text
    assert len(stored_feedback(engine)) == 1  # the first two were one form sent twice


def test_broken_hidden_fields_are_mended_not_reported(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    fields = show(client, procedure)
    broken = {**fields, "client_id": "not-a-uuid", "page_url": "javascript:alert(1)"}
    response = send(client, procedure, broken, satisfaction="2")
    assert response.status_code == 303
    row = stored_feedback(engine)[0]
    assert uuid.UUID(row.client_id).version == 7 and row.page_url is None
    # No token at all: the form again, with one, and what was typed.
    without = {k: v for k, v in fields.items() if k != "token"}
    fresh = {**without, "client_id": str(uuid.uuid4())}
    again = send(client, procedure, fresh, satisfaction="3", comment="Bonjour")
    assert again.status_code == 200
    assert hidden_fields(again.text)["token"]
    assert "Bonjour</textarea>" in again.text
    assert len(stored_feedback(engine)) == 1
