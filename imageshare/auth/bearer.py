"""`Authorization: Bearer …` for the API: a personal access token (`isk_…`) or an
Auth0 access token (a JWT). Both end as the Viewer the token speaks for."""

from __future__ import annotations

from imageshare.auth import access_tokens
from imageshare.auth.tokens import BearerTokenVerifier, TokenRefused
from imageshare.auth.viewer import Viewer
from imageshare.db import Runner


async def viewer_for_authorization(
    header: str, *, run: Runner, verifier: BearerTokenVerifier | None
) -> Viewer:
    """The Viewer an Authorization header names, or TokenRefused with a sentence.

    `run` does the database work; `verifier` checks Auth0 access tokens (None when this
    server accepts none)."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenRefused("The Authorization header must be `Bearer <token>`.")
    if access_tokens.looks_like_access_token(token):
        viewer: Viewer | None = await run(
            lambda db: access_tokens.viewer_for_secret(db, secret=token)
        )
        if viewer is None:
            raise TokenRefused("This access token is not valid; it may have been revoked.")
        return viewer
    if verifier is None:
        raise TokenRefused("This server does not accept Auth0 tokens (no AUTH0_AUDIENCE set).")
    return await verifier.viewer(token)
