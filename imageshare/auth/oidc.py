"""Auth0 (any OpenID Connect provider) for web sign-in, through authlib.

Authorization Code flow with PKCE (S256), state and nonce. authlib keeps the
state, nonce and code verifier in a short-lived signed cookie (Starlette's session
middleware, on /auth only) and checks the ID token: signature from the issuer's
JWKS, iss, aud, exp and nonce.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib would rather use the "httpx2" fork; plain httpx (Reflex's) works the same.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response

from imageshare.settings import Settings

logger = logging.getLogger(__name__)

SCOPES = "openid profile email"
# Clock skew allowed between us and the provider when checking exp, iat and nbf.
LEEWAY_SECONDS = 60


class SignInFailed(Exception):
    """A sign-in that cannot complete; the message is for the person."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def build_client(settings: Settings) -> Any:  # authlib's client: untyped
    """The app's OpenID Connect client (one per app: it caches the provider's metadata
    and keys), or None without Auth0."""
    if not settings.auth0_enabled:
        return None
    oauth = OAuth()
    assert settings.auth0_issuer  # settings guarantee it when Auth0 is enabled
    return oauth.register(
        name="auth0",
        client_id=settings.auth0_client_id,
        client_secret=settings.auth0_client_secret,
        server_metadata_url=settings.auth0_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10},
    )


async def redirect_to_provider(
    request: Request, settings: Settings, client: Any, *, signup: bool
) -> Response:
    params: dict[str, str] = {}
    if settings.auth0_audience:
        params["audience"] = settings.auth0_audience
    if signup:
        params["screen_hint"] = "signup"
    try:
        redirect: Response = await client.authorize_redirect(
            request, redirect_uri=settings.public_url + "/auth/callback", **params
        )
        return redirect
    except (httpx.HTTPError, AuthlibBaseError, ValueError) as error:
        logger.warning("sign-in: provider discovery failed: %r", error)
        raise SignInFailed(
            "The sign-in service could not be reached. Please try again in a minute.", status=502
        ) from error


async def claims_from_callback(request: Request, settings: Settings, client: Any) -> dict[str, Any]:
    """The verified ID token claims of the person coming back from the provider."""
    if request.query_params.get("error"):
        description = request.query_params.get("error_description") or request.query_params["error"]
        logger.info("sign-in: provider returned an error: %s", description)
        raise SignInFailed(f"The sign-in service did not sign you in: {description}")
    try:
        token = await client.authorize_access_token(
            request,
            # Name every claim to check: authlib checks only those claims_options names.
            # Without "aud" here, an ID token minted for another application (several
            # audiences, our client only as azp) would pass as ours.
            claims_options={
                "iss": {"essential": True, "values": [settings.auth0_issuer]},
                "aud": {"essential": True, "values": [settings.auth0_client_id]},
            },
            leeway=LEEWAY_SECONDS,
        )
    except OAuthError as error:
        logger.info("sign-in: refused at callback: %s %s", error.error, error.description)
        if error.error == "mismatching_state":
            raise SignInFailed(
                "This sign-in attempt has expired or was already used. Please sign in again."
            ) from error
        raise SignInFailed(f"The sign-in service refused the sign-in ({error.error}).") from error
    except (JoseError, AuthlibBaseError, ValueError, KeyError) as error:
        logger.warning("sign-in: ID token rejected: %r", error)
        raise SignInFailed(
            "The answer from the sign-in service could not be verified, so you were not signed in."
        ) from error
    except httpx.HTTPError as error:
        logger.warning("sign-in: provider unreachable at callback: %r", error)
        raise SignInFailed(
            "The sign-in service could not be reached. Please try again in a minute.", status=502
        ) from error
    claims = token.get("userinfo")
    if not claims:
        logger.warning("sign-in: token response had no ID token")
        raise SignInFailed("The sign-in service sent no identity, so you were not signed in.")
    return dict(claims)


def provider_logout_url(settings: Settings) -> str:
    """Auth0's logout endpoint, which returns the person to our home page."""
    assert settings.auth0_issuer
    query = urlencode({"client_id": settings.auth0_client_id, "returnTo": settings.public_url})
    return f"{settings.auth0_issuer.rstrip('/')}/v2/logout?{query}"
