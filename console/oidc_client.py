"""The OpenID Connect relying party that signs staff in through ProConnect.

Interface (used by `console.oidc`; one instance per process, in the lifespan state
`console_oidc` when `RETOUR_OIDC_ISSUER` is set):

    client = OIDCClient(settings)          # await client.aclose() at shutdown
    start = client.new_attempt()           # state, nonce, PKCE verifier: keep them in the session
    url = await client.authorization_url(start, redirect_uri)
    identity = await client.finish(start, code=..., redirect_uri=...)   # after the callback
    url = await client.logout_url(id_token, post_logout_redirect_uri)   # or None

Authlib and joserfc do the protocol's checks: the PKCE challenge (S256), the ID token's
signature against the provider's published keys, and its claims (`iss`, `aud`, `exp`, `iat`,
`nonce`, `azp`, `at_hash`). The userinfo answer (a signed JWT at ProConnect, JSON elsewhere)
is checked the same way and must name the ID token's subject. Any failure raises
`OIDCError(code)`; the caller signs nobody in. `state` is compared by the caller
(`console.oidc`), before any of this runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from retour.settings import Settings

# Clocks of two machines differ: a minute of tolerance on exp/iat, as is usual.
LEEWAY_SECONDS: Final = 60
# The provider's configuration and keys are fetched again after this long (key rotation).
METADATA_MAX_AGE: Final = 3600.0
TIMEOUT: Final = httpx.Timeout(10.0)


class OIDCError(Exception):
    """The sign-in cannot be completed; `code` names why (for logs and tests)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Attempt:
    """What the session keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str

    def to_session(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}

    @classmethod
    def from_session(cls, data: Any) -> Attempt | None:
        if not isinstance(data, dict):
            return None
        values = [data.get(key) for key in ("state", "nonce", "verifier")]
        if not all(isinstance(value, str) and value for value in values):
            return None
        return cls(*(str(value) for value in values))


@dataclass(frozen=True)
class Identity:
    email: str
    name: str
    subject: str
    id_token: str


class OIDCClient:
    def __init__(self, settings: Settings, *, http: httpx.AsyncClient | None = None) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret
        self.scopes = settings.oidc_scopes
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- Provider configuration ----------------------------------------------------------

    async def metadata(self, *, force: bool = False) -> dict[str, Any]:
        fresh = time.monotonic() - self._fetched_at < METADATA_MAX_AGE
        if self._metadata is not None and fresh and not force:
            return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = await self._get_json(url)
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer.rstrip("/"):
            raise OIDCError("issuer_mismatch", str(metadata.get("issuer")))
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(key), str):
                raise OIDCError("bad_metadata", key)
        keys: Any = await self._get_json(metadata["jwks_uri"])
        try:
            self._keys = KeySet.import_key_set(keys)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise OIDCError("bad_metadata", f"jwks: {exc}") from exc
        self._metadata = metadata
        self._fetched_at = time.monotonic()
        return metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OIDCError("provider_unavailable", f"{url}: {exc}") from exc
        if not isinstance(data, dict):
            raise OIDCError("bad_metadata", url)
        return data

    # --- The flow ------------------------------------------------------------------------

    @staticmethod
    def new_attempt() -> Attempt:
        return Attempt(
            state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64)
        )

    async def authorization_url(self, attempt: Attempt, redirect_uri: str) -> str:
        metadata = await self.metadata()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": create_s256_code_challenge(attempt.verifier),
            "code_challenge_method": "S256",
        }
        return str(add_params_to_uri(metadata["authorization_endpoint"], list(params.items())))

    async def finish(self, attempt: Attempt, *, code: str, redirect_uri: str) -> Identity:
        metadata = await self.metadata()
        token = await self._exchange(metadata, attempt, code, redirect_uri)
        id_token = token.get("id_token")
        access_token = token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise OIDCError("bad_token_response", "no id_token or access_token")
        claims = await self._verify_id_token(id_token, attempt.nonce, access_token)
        info = dict(claims)
        if "email" not in info and isinstance(metadata.get("userinfo_endpoint"), str):
            info.update(await self._userinfo(metadata["userinfo_endpoint"], access_token, claims))
        email = info.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OIDCError("no_email")
        name = " ".join(
            str(info[key]) for key in ("given_name", "usual_name", "family_name") if info.get(key)
        )
        return Identity(
            email=email.strip().lower(), name=name, subject=str(claims["sub"]), id_token=id_token
        )

    async def _exchange(
        self, metadata: dict[str, Any], attempt: Attempt, code: str, redirect_uri: str
    ) -> dict[str, Any]:
        try:
            response = await self._http.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": attempt.verifier,
                },
                auth=(self.client_id, self._secret),  # client_secret_basic
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise OIDCError("provider_unavailable", str(exc)) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            # invalid_grant: a code used twice, expired, or issued to another client.
            error = data.get("error", "") if isinstance(data, dict) else ""
            raise OIDCError("code_refused", f"{response.status_code} {error}")
        return data

    def _decode(self, token: str, metadata: dict[str, Any]) -> jwt.Token:
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        # Never "none", never a symmetric algorithm keyed with public material.
        algorithms = [
            a for a in algorithms if isinstance(a, str) and a != "none" and not a.startswith("HS")
        ]
        assert self._keys is not None
        return jwt.decode(token, self._keys, registry=JWSRegistry(algorithms=algorithms))

    async def _verify_id_token(self, id_token: str, nonce: str, access_token: str) -> CodeIDToken:
        metadata = await self.metadata()
        try:
            try:
                decoded = self._decode(id_token, metadata)
            except JoseError:
                # Perhaps the provider rotated its keys since we fetched them: once more.
                metadata = await self.metadata(force=True)
                decoded = self._decode(id_token, metadata)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            raise OIDCError("id_token_refused", f"{type(exc).__name__}: {exc}") from exc
        return claims

    async def _userinfo(self, url: str, access_token: str, claims: CodeIDToken) -> dict[str, Any]:
        try:
            response = await self._http.get(
                url, headers={"Authorization": f"Bearer {access_token}"}
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise OIDCError("provider_unavailable", str(exc)) from exc
        metadata = await self.metadata()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            try:
                info = dict(self._decode(response.text.strip(), metadata).claims)
            except (JoseError, ValueError) as exc:
                raise OIDCError("userinfo_refused", str(exc)) from exc
        else:
            try:
                info = response.json()
            except ValueError as exc:
                raise OIDCError("userinfo_refused", "not JSON") from exc
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise OIDCError("userinfo_refused", "subject differs from the ID token's")
        return info

    async def logout_url(self, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser so that the provider's session ends too (or None)."""
        try:
            metadata = await self.metadata()
        except OIDCError:
            return None  # the local session is over anyway
        endpoint = metadata.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        params = [
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
            ("state", generate_token(20)),
            ("client_id", self.client_id),
        ]
        return str(add_params_to_uri(endpoint, params))
