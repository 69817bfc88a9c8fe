"""Bearer tokens for the API: Auth0 access tokens (RS256 JWTs) turned into a Viewer.

The issuer's signing keys (JWKS) are fetched once and cached. A token signed with a
key we do not know yet refreshes the cache, at most once a minute, so a key rotation
at Auth0 is picked up without a restart and junk tokens cannot hammer the issuer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, TypeVar

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from imageshare.auth.viewer import Viewer
from imageshare.db import Runner
from imageshare.settings import Settings
from imageshare.users import service as users

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"
LEEWAY_SECONDS = 60
JWKS_REFRESH_INTERVAL = 60.0
PROFILE_CLAIMS = ("nickname", "name", "email", "picture")

T = TypeVar("T")
# Runs database work in a transaction off the event loop (the wiring's `run`).


class TokenRefused(Exception):
    """The bearer token is not acceptable; the message is safe to return to the client."""


class BearerTokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        run: Runner,
        http: httpx.AsyncClient | None = None,
        refresh_interval: float = JWKS_REFRESH_INTERVAL,
    ):
        self.issuer = issuer
        self.audience = audience
        self._run = run
        self.refresh_interval = refresh_interval
        self._http = http or httpx.AsyncClient(timeout=10)
        self._keys: KeySet | None = None
        self._keys_fetched_at = float("-inf")
        self._metadata: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def viewer(self, token: str) -> Viewer:
        """The Viewer this access token speaks for, or TokenRefused."""
        claims = await self.verify(token)
        user = await self._run(lambda db: users.get_by_subject(db, auth_subject=claims["sub"]))
        if user is None:
            profile = (
                claims
                if any(k in claims for k in PROFILE_CLAIMS)
                else await self._userinfo(token, claims)
            )
            user = await self._run(lambda db: users.sign_in_from_claims(db, claims=profile))
        return Viewer.of(user)

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims once signature, issuer, audience and times check out."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError):
            raise TokenRefused("The bearer token is not a JWT.") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRefused(f"The bearer token must be signed with {ALGORITHM}.")
        kid = header.get("kid")
        if not kid:
            raise TokenRefused("The bearer token names no signing key (kid).")
        keys = await self._keys_with(kid)
        try:
            decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
        except JoseError:
            raise TokenRefused("The bearer token's signature is not valid.") from None
        registry = JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as error:
            raise TokenRefused(
                f"The bearer token was refused: {error.description or error.error}."
            ) from None
        audience = decoded.claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise TokenRefused("The bearer token is not meant for this API (audience).")
        return decoded.claims

    async def _keys_with(self, kid: str) -> KeySet:
        async with self._lock:
            if self._keys is None or not _has_kid(self._keys, kid):
                if time.monotonic() - self._keys_fetched_at >= self.refresh_interval:
                    await self._fetch_keys()
            if self._keys is None or not _has_kid(self._keys, kid):
                raise TokenRefused("The bearer token was signed with an unknown key.")
            return self._keys

    async def _fetch_keys(self) -> None:
        self._keys_fetched_at = time.monotonic()
        try:
            metadata = await self._discovery()
            response = await self._http.get(metadata["jwks_uri"])
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, KeyError, JoseError) as error:
            logger.warning("could not fetch the issuer's signing keys: %r", error)
            raise TokenRefused(
                "The token issuer could not be reached; try again shortly."
            ) from error

    async def _discovery(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = await self._http.get(url)
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    async def _userinfo(self, token: str, claims: dict[str, Any]) -> dict[str, Any]:
        """Profile claims for a first-time API user whose token carries none."""
        try:
            metadata = await self._discovery()
            response = await self._http.get(
                metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            profile: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError, KeyError) as error:
            logger.warning("userinfo unavailable, using the token's claims: %r", error)
            return claims
        if profile.get("sub") != claims["sub"]:
            return claims
        return profile


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def build_verifier(settings: Settings, *, run: Runner) -> BearerTokenVerifier | None:
    """The app's verifier (one per app: it caches the issuer's keys), or None when the
    settings name no Auth0 API (AUTH0_AUDIENCE)."""
    if not (settings.auth0_issuer and settings.auth0_audience):
        return None
    return BearerTokenVerifier(
        issuer=settings.auth0_issuer, audience=settings.auth0_audience, run=run
    )
