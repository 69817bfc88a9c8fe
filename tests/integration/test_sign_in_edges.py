"""Sign-in when things go wrong around it: provider down, forged posts, production."""

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from imageshare.auth import oidc
from imageshare.auth.routes import build_auth_app
from imageshare.settings import load_settings
from tests.harness.oidc import CLIENT_ID, CLIENT_SECRET, start_provider


def auth_app_for(issuer: str) -> TestClient:
    settings = load_settings(
        {"AUTH0_DOMAIN": "tenant.example", "AUTH0_ISSUER": issuer, "AUTH0_CLIENT_ID": CLIENT_ID,
         "AUTH0_CLIENT_SECRET": CLIENT_SECRET, "PUBLIC_URL": "http://testserver"}
    )  # fmt: skip
    auth = build_auth_app(settings, run=_no_database, oidc_client=oidc.build_client(settings))
    return TestClient(Starlette(routes=[Mount("/auth", app=auth)]))


async def _no_database(_work):
    raise AssertionError("these sign-ins never get as far as the database")


def test_provider_down_at_login_shows_a_clear_page():
    client = auth_app_for("http://127.0.0.1:9/")
    response = client.get("/auth/login?next=/i/1", follow_redirects=False)
    assert response.status_code == 502
    assert "could not be reached" in response.text
    assert 'href="/auth/login?next=%2Fi%2F1"' in response.text
    assert "imageshare_session" not in response.headers.get("set-cookie", "")


def test_provider_going_down_before_the_callback_shows_a_clear_page(tmp_path):
    with start_provider(tmp_path, name="oidc-provider-down") as provider:
        client = auth_app_for(provider.issuer)
        to_provider = client.get("/auth/login?next=/x", follow_redirects=False)
        assert to_provider.status_code == 302
        callback = httpx.get(to_provider.headers["location"]).headers["location"]
    # The provider has stopped: the code cannot be exchanged.
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 502
    assert "could not be reached" in response.text
    assert "imageshare_session" not in response.headers.get("set-cookie", "")


def test_development_sign_in_does_not_exist_in_production(auth0_app_server):
    response = httpx.post(auth0_app_server.url + "/auth/login", data={"username": "mallory"},
                          headers={"Origin": auth0_app_server.url})  # fmt: skip
    assert response.status_code == 405
    assert "imageshare_session" not in response.headers.get("set-cookie", "")


def test_development_sign_in_refuses_a_form_posted_from_another_site(app_server):
    response = httpx.post(app_server.url + "/auth/login", data={"username": "victim", "next": "/"},
                          headers={"Origin": "https://evil.example"})  # fmt: skip
    assert response.status_code == 403
    assert "must be sent from this site" in response.text
    assert "imageshare_session" not in response.headers.get("set-cookie", "")


def test_full_page_loads_renew_the_session_cookie(app_server):
    signed_in = httpx.post(app_server.url + "/auth/login", data={"username": "renewer", "next": "/"},
                           headers={"Origin": app_server.url})  # fmt: skip
    token = signed_in.cookies["imageshare_session"]
    cookie = {"Cookie": f"imageshare_session={token}"}
    page = app_server.get("/", headers={**cookie, "Sec-Fetch-Dest": "document"})
    assert f"imageshare_session={token}" in page.headers["set-cookie"]
    assert "Max-Age=1209600" in page.headers["set-cookie"]
    # Scripts, images and API calls are not page loads: no cookie churn.
    asset = app_server.get("/", headers={**cookie, "Sec-Fetch-Dest": "script"})
    assert "set-cookie" not in asset.headers
