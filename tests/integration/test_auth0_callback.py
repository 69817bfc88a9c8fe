"""The sign-in callback against the Auth0-like provider: what starts a session, what does not.

Plain HTTP (no browser): each step of the redirect dance is visible and can be bent.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.harness.oidc import AUDIENCE, CLIENT_ID

SESSION_COOKIE = "imageshare_session"


class Login:
    """One sign-in attempt by a cookie-carrying client (httpx does not send Secure
    cookies over http://, so the sign-in cookie is carried by hand)."""

    def __init__(self, app_url: str, next_path: str = "/somewhere"):
        self.app_url = app_url
        response = httpx.get(f"{app_url}/auth/login", params={"next": next_path})
        assert response.status_code == 302, response.text
        self.authorize_url = response.headers["location"]
        self.cookie = _cookie(response, "imageshare_signin")
        self.query = parse_qs(urlsplit(self.authorize_url).query)

    def at_provider(self) -> str:
        """Let the provider sign the person in; return the callback URL it sends back."""
        response = httpx.get(self.authorize_url)
        assert response.status_code == 302
        return response.headers["location"]

    def callback(self, url: str, *, cookie: str | None = None) -> httpx.Response:
        sent = cookie or self.cookie
        response = httpx.get(url, headers={"Cookie": f"imageshare_signin={sent}"})
        self.cookie = _cookie(response, "imageshare_signin") or self.cookie  # as a browser keeps it
        return response


def _cookie(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


@pytest.fixture
def sessions_count(postgres_url):
    engine = sa.create_engine(postgres_url)

    def count() -> int:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM web_session")).scalar_one()

    yield count
    engine.dispose()


def assert_refused(response: httpx.Response, reason: str, sessions_count, before: int) -> None:
    assert response.status_code in (400, 502), response.status_code
    assert reason in response.text
    assert 'href="/auth/login?next=' in response.text  # a way back
    assert _cookie(response, SESSION_COOKIE) is None
    assert sessions_count() == before


def test_login_redirect_asks_for_code_flow_with_pkce_state_nonce_and_audience(auth0_app_server):
    login = Login(auth0_app_server.url)
    q = {k: v[0] for k, v in login.query.items()}
    assert q["response_type"] == "code"
    assert q["client_id"] == CLIENT_ID
    assert q["redirect_uri"] == auth0_app_server.url + "/auth/callback"
    assert set(q["scope"].split()) == {"openid", "profile", "email"}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) >= 43
    assert len(q["state"]) >= 20 and len(q["nonce"]) >= 20
    assert q["audience"] == AUDIENCE


def test_a_good_callback_starts_a_session_with_safe_cookie_flags(
    auth0_app_server, provider, sessions_count
):
    before = sessions_count()
    login = Login(auth0_app_server.url)
    response = login.callback(login.at_provider())
    assert response.status_code == 303
    assert response.headers["location"] == "/somewhere"
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    flags = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "max-age", "path"} <= flags
    assert "SameSite=lax" in header and "Max-Age=1209600" in header
    assert sessions_count() == before + 1

    token = _cookie(response, SESSION_COOKIE)
    cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
    logout_url = auth0_app_server.url + "/auth/logout"
    # A GET (a link, an image, another site) only shows a button: nobody is signed out.
    page = httpx.get(logout_url, headers=cookie)
    assert page.status_code == 200
    assert '<form method="post" action="/auth/logout">' in page.text
    assert sessions_count() == before + 1
    # Nor by a form posted from another site, or with no Origin at all.
    for origin in ({"Origin": "https://elsewhere.example"}, {}):
        refused = httpx.post(logout_url, headers=cookie | origin)
        assert refused.status_code == 403
        assert "must be sent from this site" in refused.text
        assert "set-cookie" not in refused.headers
    assert sessions_count() == before + 1

    # Signing out from this site's pages ends it on the server and clears the cookie.
    logout = httpx.post(logout_url, headers=cookie | {"Origin": auth0_app_server.url})
    assert logout.status_code == 303
    assert logout.headers["location"].startswith(provider.issuer + "v2/logout?")
    assert sessions_count() == before
    assert 'imageshare_session=""' in logout.headers["set-cookie"]


@pytest.mark.parametrize(
    "next_path", ["https://elsewhere.example/", "//elsewhere.example/x", "/\\evil"]
)
def test_next_pointing_off_site_is_ignored(auth0_app_server, provider, next_path):
    login = Login(auth0_app_server.url, next_path=next_path)
    assert login.callback(login.at_provider()).headers["location"] == "/"


def test_wrong_state_is_refused(auth0_app_server, provider, sessions_count):
    before = sessions_count()
    login = Login(auth0_app_server.url)
    callback = _with_query(login.at_provider(), state="forged-state")
    assert_refused(login.callback(callback), "expired or was already used", sessions_count, before)


def test_replayed_callback_is_refused(auth0_app_server, provider, sessions_count):
    login = Login(auth0_app_server.url)
    original_cookie = login.cookie
    callback = login.at_provider()
    assert login.callback(callback).status_code == 303
    before = sessions_count()
    # The same browser: its sign-in cookie no longer holds that state.
    assert_refused(login.callback(callback), "expired or was already used", sessions_count, before)
    # A copy of the old cookie replayed: the provider refuses the spent code.
    replay = login.callback(callback, cookie=original_cookie)
    assert_refused(replay, "refused the sign-in", sessions_count, before)


def test_reused_code_is_refused(auth0_app_server, provider, sessions_count):
    first = Login(auth0_app_server.url)
    used = first.at_provider()
    assert first.callback(used).status_code == 303
    before = sessions_count()
    second = Login(auth0_app_server.url)
    callback = _with_query(second.at_provider(), code=parse_qs(urlsplit(used).query)["code"][0])
    assert_refused(second.callback(callback), "refused the sign-in", sessions_count, before)


def test_error_from_the_provider_is_shown(auth0_app_server, provider, sessions_count):
    before = sessions_count()
    provider.control(
        "next-authorize-error", {"error": "access_denied", "error_description": "User cancelled"}
    )
    login = Login(auth0_app_server.url)
    assert_refused(login.callback(login.at_provider()), "User cancelled", sessions_count, before)


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        # Another application's token naming us only as the authorized party: authlib's
        # azp check alone lets it through; the audience check refuses it.
        {"aud": ["someone-else", AUDIENCE], "azp": CLIENT_ID},
        {"aud": None},
        {"iss": "https://impostor.example/"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"nonce": "not-the-nonce"},
    ],
    ids=["wrong-aud", "aud-of-another-app", "no-aud", "wrong-iss", "expired", "wrong-nonce"],
)
def test_id_token_with_bad_claims_is_refused(auth0_app_server, provider, sessions_count, claims):
    before = sessions_count()
    login = Login(auth0_app_server.url)
    callback = login.at_provider()
    provider.control("next-id-token-claims", claims)
    assert_refused(login.callback(callback), "could not be verified", sessions_count, before)


def test_id_token_for_us_among_several_audiences_passes(auth0_app_server, provider):
    # Auth0's shape when an API audience is asked for: our client id among the audiences.
    login = Login(auth0_app_server.url)
    callback = login.at_provider()
    provider.control("next-id-token-claims", {"aud": [CLIENT_ID, AUDIENCE], "azp": CLIENT_ID})
    assert login.callback(callback).status_code == 303


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged_id_token(kind: str, provider, nonce: str) -> str:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "auth0|mallory", "nonce": nonce,
              "iat": now, "exp": now + 600, "nickname": "mallory"}  # fmt: skip
    if kind == "alg-none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    key = RSAKey.generate_key(2048)
    provider_kid = httpx.get(provider.issuer + ".well-known/jwks.json").json()["keys"][0]["kid"]
    kid = provider_kid if kind == "tampered" else "unknown-kid"
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


@pytest.mark.parametrize("kind", ["alg-none", "tampered", "unknown-kid"])
def test_forged_id_token_is_refused(auth0_app_server, provider, sessions_count, kind):
    before = sessions_count()
    login = Login(auth0_app_server.url)
    callback = login.at_provider()
    provider.control(
        "next-id-token-raw", {"id_token": _forged_id_token(kind, provider, login.query["nonce"][0])}
    )
    assert_refused(login.callback(callback), "could not be verified", sessions_count, before)
