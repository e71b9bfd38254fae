"""Jinja2 for the console and the public pages: autoescaped, translated, DSFR.

Interface:

    from console.templating import render
    return render(request, "procedures/list.html", {"procedures": rows}, status_code=200)

Every template receives, besides the given context:
- `request`, `url_for(name, **params)` (Starlette's, gives a URL object; use `|string` or
  `.include_query_params(...)` as needed);
- `user`: the signed-in `console.scope.CurrentUser` or None;
- `csrf_token` (a string) and `csrf_input()` (the hidden field, already markup) for forms;
- `_("Texte français {n}", n=3)`: French source text translated through
  `console/locales/en.json` when the locale is English; `locale` ("fr" or "en");
- `_n("{n} retour", "{n} retours", count)`: the same, in the number the count asks for
  (`retour.i18n.plural_translator`; `n=` among the values overrides the count shown);
- `lang_url("en")`: the current URL in another language (for the language switch);
- `lang_link("/open-data")`: an internal link that keeps the page's language. Citizen pages set
  no cookie, so in English every link carries `lang=en`; console pages (cookie) are unchanged;
- `static_url("js/x.js")`: `/static/js/x.js`;
- `can_triage(user)`, `can_manage_procedures(user)`, `can_manage_users(user)`,
  `is_admin(user)` from `console.scope`;
- the filter `french_spacing`: no-break spaces before « : ; ? ! » (`retour.typography`; `_()`
  already applies it to French text, the filter is for French words written outside `_()`);
- the filter `guillemets`: `{{ word|guillemets }}` → « word »;
- the filter `paris_time`: `{{ moment|paris_time }}` → "23/11/2026 02:46", Paris time as the
  inbox shows it (`console.labels.format_datetime`), so one event reads the same everywhere.

The locale comes from `?lang=`, then a `lang` cookie, then Accept-Language. The cookie is set
only on console pages (`/console…`, staff who chose a language); citizen-facing pages read it
when present but never set one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from console import scope
from console.labels import format_datetime
from console.security import CSRF_FIELD, csrf_token, current_user, is_console_path, is_https
from retour import indicators
from retour.coverage import BUTTON_STATE_LABELS
from retour.i18n import LOCALES, Plural, Translate, negotiate, plural_translator, translator
from retour.typography import french_spacing

HERE: Final = Path(__file__).resolve().parent
TEMPLATES_DIR: Final = HERE / "templates"
LOCALES_DIR: Final = HERE / "locales"
LANG_COOKIE: Final = "lang"
LANG_COOKIE_MAX_AGE: Final = 365 * 24 * 60 * 60


def static_url(path: str) -> str:
    """A site-relative URL under /static (relative, so that it works behind any proxy)."""
    return "/static/" + path.lstrip("/")


environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(
    can_triage=scope.can_triage,
    can_manage_procedures=scope.can_manage_procedures,
    can_manage_users=scope.can_manage_users,
    is_admin=scope.is_admin,
    role_labels=scope.ROLE_LABELS,
    static_url=static_url,
    # The observatory's vocabulary and levels (issue 18), for the pages that show indicators.
    observatory_vocabulary=indicators,
    observatory_button_labels=BUTTON_STATE_LABELS,
)


def paris_time(value: dt.datetime | None) -> str:
    """Staff's date and time (Paris); a naive value is UTC, as the database stores it."""
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return format_datetime(value)


def guillemets(value: str) -> str:
    """A quoted word, as French writes it: « étape 3 » (no-break spaces inside)."""
    return f"«\u00a0{value}\u00a0»"


environment.filters["paris_time"] = paris_time
environment.filters["french_spacing"] = french_spacing
environment.filters["guillemets"] = guillemets
templates = Jinja2Templates(env=environment)


def locale_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LOCALES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie
    return negotiate(None, request.headers.get("accept-language"))


def translate_for(request: Request) -> Translate:
    return translator(locale_of(request), [LOCALES_DIR])


def plural_for(request: Request) -> Plural:
    return plural_translator(locale_of(request), [LOCALES_DIR])


def base_context(request: Request) -> dict[str, Any]:
    locale = locale_of(request)
    return {
        "user": current_user(request),
        "csrf_token": csrf_token(request) if is_console_path(request.url.path) else "",
        "csrf_input": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, escape(csrf_token(request))
        ),
        "_": translator(locale, [LOCALES_DIR]),
        "_n": plural_translator(locale, [LOCALES_DIR]),
        "locale": locale,
        "lang_url": lambda target: _relative(request, target),
        "lang_link": lambda url: _keep_language(request, locale, str(url)),
    }


def _keep_language(request: Request, locale: str, url: str) -> str:
    if locale == "fr" or is_console_path(request.url.path) or "lang=" in url:
        return url
    path, hash_sign, fragment = url.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}lang={locale}{hash_sign}{fragment}"


def _relative(request: Request, locale: str) -> str:
    query = request.url.include_query_params(lang=locale).query
    return f"{request.url.path}?{query}"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    full = base_context(request)
    full.update(context or {})
    response = templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )
    asked = request.query_params.get("lang")
    if asked in LOCALES and is_console_path(request.url.path):
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=is_https(request, request.state.settings),
        )
    return response
