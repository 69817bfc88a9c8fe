"""API bearer tokens: Auth0-style access tokens from the provider, valid and not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlmodel import select

from imageshare.auth.tokens import BearerTokenVerifier, TokenRefused
from imageshare.users.models import User
from tests.harness.components import run_async
from tests.harness.oidc import AUDIENCE


def verify(provider, app, token: str, **options):
    """The viewer of `token`, as `app`'s verifier (wiring.py) would find it."""

    async def run():
        verifier = BearerTokenVerifier(
            issuer=provider.issuer, audience=AUDIENCE, run=app.run, **options
        )
        return await verifier.viewer(token)

    return run_async(run())


def test_a_valid_token_is_the_same_user_as_the_web_sign_in(provider, app_db):
    login = {
        "sub": "auth0|grace",
        "nickname": "grace",
        "name": "Grace Hopper",
        "email": "grace@example.com",
    }
    viewer = verify(provider, app_db, provider.access_token(login=login))
    assert not viewer.is_anonymous and viewer.username == "grace"
    # Created on first use with the profile from /userinfo (the token has no profile claims).
    with app_db.session() as db:
        user = db.exec(select(User).where(User.auth_subject == "auth0|grace")).one()
        assert user.display_name == "Grace Hopper"
    again = verify(provider, app_db, provider.access_token(login=login))
    assert again.user_id == viewer.user_id


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://127.0.0.1/userinfo"}, "audience"),
        ({"iss": "https://impostor.example/"}, "iss"),
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 3600}, "exp"),
    ],
    ids=["missing-audience", "wrong-issuer", "expired"],
)
def test_tokens_with_wrong_claims_are_refused(provider, app_db, overrides, reason):
    provider.control("next-access-token-claims", overrides)
    with pytest.raises(TokenRefused, match=reason):
        verify(provider, app_db, provider.access_token())


def test_a_token_without_the_audience_parameter_is_refused(provider, app_db):
    with pytest.raises(TokenRefused, match="audience"):
        verify(provider, app_db, provider.access_token(audience=None))


def test_hs256_signed_with_the_public_key_is_refused(provider, app_db):
    jwks = httpx.get(provider.issuer + ".well-known/jwks.json").json()
    public_pem = RSAKey.import_key(jwks["keys"][0]).as_pem(private=False)
    claims = _claims_of(provider.access_token())
    # The classic confusion attack, forged by hand (joserfc itself refuses to build it).
    signing_input = (
        f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': jwks['keys'][0]['kid']})}.{_b64(claims)}"
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenRefused, match="RS256"):
        verify(provider, app_db, forged)


def test_tampered_and_unknown_key_tokens_are_refused(provider, app_db):
    token = provider.access_token()
    header, body, signature = token.split(".")
    claims = _claims_of(token) | {"sub": "auth0|admin"}
    with pytest.raises(TokenRefused, match="signature"):
        verify(provider, app_db, f"{header}.{_b64(claims)}.{signature}")

    stranger = jwt.encode({"alg": "RS256", "kid": "unknown-kid"}, claims, RSAKey.generate_key(2048))
    with pytest.raises(TokenRefused, match="unknown key"):
        verify(provider, app_db, stranger)
    for junk in ("", "not-a-jwt", "a.b.c"):
        with pytest.raises(TokenRefused):
            verify(provider, app_db, junk)


def test_key_rotation_is_picked_up_without_restart_and_refreshes_are_rate_limited(provider, app_db):
    fetches = []

    async def record(request):
        fetches.append(request.url.path)

    async def scenario():
        http = httpx.AsyncClient(event_hooks={"request": [record]})
        verifier = BearerTokenVerifier(issuer=provider.issuer, audience=AUDIENCE, http=http,
                                       run=app_db.run, refresh_interval=1.0)  # fmt: skip
        await verifier.verify(provider.access_token())
        provider.control("rotate-keys", {"keep_old": False})
        rotated = provider.access_token()
        time.sleep(1.1)  # past the refresh interval
        await verifier.verify(rotated)  # unknown kid: one refresh, then accepted
        jwks_fetches = fetches.count("/.well-known/jwks.json")
        # Tokens with unknown keys within the interval do not reach the issuer again.
        for _ in range(5):
            with pytest.raises(TokenRefused, match="unknown key"):
                await verifier.verify(
                    jwt.encode(
                        {"alg": "RS256", "kid": "junk"}, {"sub": "x"}, RSAKey.generate_key(2048)
                    )
                )
        assert fetches.count("/.well-known/jwks.json") == jwks_fetches == 2
        await http.aclose()

    run_async(scenario())
