"""A real OpenID Connect provider for the tests: `provider.mjs` (npm `oidc-provider`) under Node.

    with running_provider() as provider:      # or the session fixture `oidc_provider`
        settings = provider.settings_for(settings, public_url="http://testserver")
        callback = provider.sign_in(http, authorization_url, "agent@interieur.gouv.fr")
        provider.tamper("expired")             # the next ID token is re-signed expired

Node and the package come with the project (`package.json`, installed by `make test`'s
`npm ci`). Missing, the tests that need the provider skip, or fail in CI.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from retour.settings import Settings
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
PACKAGE = ROOT / "node_modules" / "oidc-provider"
CLIENT_ID = "retour"
CLIENT_SECRET = "retour-test-secret-0123456789abcdef"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class OpenIDProvider:
    issuer: str

    def settings_for(self, settings: Settings, **overrides: object) -> Settings:
        return dataclasses.replace(
            settings,
            oidc_issuer=self.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            **overrides,  # type: ignore[arg-type]
        )

    def tamper(self, mode: str) -> None:
        httpx.post(f"{self.issuer}/__test/tamper", data={"mode": mode}).raise_for_status()

    def open_sessions(self) -> int:
        return int(httpx.get(f"{self.issuer}/__test/sessions").json()["open"])

    def sign_in(self, http: httpx.Client, authorization_url: str, email: str) -> str:
        """Go through the provider's sign-in as a browser would; the callback URL it sends
        back to (not followed: the relying party's client does that)."""
        url = authorization_url
        for _ in range(10):
            response = http.get(url)
            if response.status_code == 200:  # the sign-in form
                action = FORM_ACTION.search(response.text)
                assert action, response.text
                response = http.post(
                    urljoin(url, action.group(1)), data={"login": email, "password": "x"}
                )
            assert response.status_code in (302, 303), (response.status_code, response.text)
            url = urljoin(url, response.headers["location"])
            if "/console/oidc/callback" in url:
                return url
        raise AssertionError("the provider never sent back to the callback")

    def sign_out(self, http: httpx.Client, end_session_url: str) -> str:
        """Confirm the provider's sign-out page; the address it sends back to."""
        page = http.get(end_session_url)
        assert page.status_code == 200, page.text
        action = FORM_ACTION.search(page.text)
        assert action, page.text
        fields = dict(HIDDEN.findall(page.text))
        response = http.post(
            urljoin(end_session_url, action.group(1)), data={**fields, "logout": "yes"}
        )
        assert response.status_code in (302, 303), response.text
        return str(response.headers["location"])


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not PACKAGE.is_dir():
        return "node_modules/oidc-provider is missing (make test runs npm ci)"
    return None


@contextmanager
def running_provider() -> Iterator[OpenIDProvider]:
    missing = _missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the OpenID provider cannot run: {missing}")
        pytest.skip(f"the OpenID provider cannot run: {missing}")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        ["node", str(SCRIPT)],
        env={
            **os.environ,
            "PORT": str(port),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited with {process.returncode}")
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenID provider did not start in 30 s")
            time.sleep(0.1)
        yield OpenIDProvider(issuer=issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
