"""/auth/login, /auth/signup, /auth/callback, /auth/logout — full page loads that set cookies.

With Auth0 configured they run the OpenID Connect flow. Without it, and only in
development, /auth/login shows a "Sign in as…" form instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from imageshare.auth import oidc, pages, sessions
from imageshare.auth.cookies import clear_session_cookie, set_session_cookie
from imageshare.auth.sessions import COOKIE_NAME
from imageshare.db import Runner
from imageshare.settings import Settings
from imageshare.users import service as users
from imageshare.users.service import USERNAME_MAX

logger = logging.getLogger(__name__)

# authlib's state, nonce and PKCE verifier live in this cookie between login and callback.
SIGN_IN_COOKIE = "imageshare_signin"
SIGN_IN_COOKIE_SECONDS = 600
_DEV_USERNAME = re.compile(rf"^[a-z0-9_-]{{1,{USERNAME_MAX}}}$")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _run(request: Request) -> Runner:
    run: Runner = request.app.state.run
    return run


def _oidc(request: Request) -> Any:  # authlib's client: untyped
    return request.app.state.oidc


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def login_url(next_path: str) -> str:
    return "/auth/login?" + urlencode({"next": next_path})


async def login(request: Request) -> Response:
    return await _begin(request, signup=False)


async def signup(request: Request) -> Response:
    return await _begin(request, signup=True)


async def _begin(request: Request, *, signup: bool) -> Response:
    settings = _settings(request)
    next_path = safe_next(request.query_params.get("next"))
    if not settings.auth0_enabled:
        return pages.development_sign_in(next_path=next_path)
    request.session["next"] = next_path
    try:
        return await oidc.redirect_to_provider(request, settings, _oidc(request), signup=signup)
    except oidc.SignInFailed as failure:
        return pages.sign_in_failed(
            failure.message, retry_url=login_url(next_path), status=failure.status
        )


async def callback(request: Request) -> Response:
    settings = _settings(request)
    next_path = safe_next(request.session.pop("next", None))
    try:
        claims = await oidc.claims_from_callback(request, settings, _oidc(request))
    except oidc.SignInFailed as failure:
        return pages.sign_in_failed(
            failure.message, retry_url=login_url(next_path), status=failure.status
        )
    return await _signed_in(request, claims, next_path)


async def development_login(request: Request) -> Response:
    """POST of the development form: sign in as the named person, creating them if new."""
    form = await request.form()
    next_path = safe_next(str(form.get("next") or "/"))
    # A form posted from another site must not sign this browser in (login CSRF).
    if request.headers.get("origin") != f"{request.url.scheme}://{request.url.netloc}":
        return pages.development_sign_in(
            next_path=next_path, error="This form must be sent from this site.", status=403
        )
    username = str(form.get("username") or "").strip().lower()
    if not _DEV_USERNAME.match(username):
        return pages.development_sign_in(
            next_path=next_path,
            error=f"Choose a username of 1 to {USERNAME_MAX} letters, digits, - or _.",
            status=400,
        )
    claims = {"sub": f"dev|{username}", "nickname": username, "name": username}
    return await _signed_in(request, claims, next_path)


async def _signed_in(request: Request, claims: dict[str, Any], next_path: str) -> Response:
    def start(db: Session) -> str:
        user = users.sign_in_from_claims(db, claims=claims)
        return sessions.start(db, user=user)

    try:
        token = await _run(request)(start)
    except ValueError as error:
        logger.warning("sign-in: unusable claims: %s", error)
        return pages.sign_in_failed(
            "Your account details could not be read, so you were not signed in.",
            retry_url=login_url(next_path),
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, token, _settings(request))
    return response


async def sign_out_page(_request: Request) -> Response:
    return pages.sign_out()


async def logout(request: Request) -> Response:
    """POST from this site's own pages (the account menu's form, the confirmation page):
    end the session, clear the cookie, then sign out at Auth0 too when it is used.
    A form posted from another site signs nobody out."""
    settings = _settings(request)
    if not _from_this_site(request, settings):
        return pages.sign_out(error="This form must be sent from this site.", status=403)
    token = request.cookies.get(COOKIE_NAME)
    await _run(request)(lambda db: sessions.end(db, token=token))
    destination = oidc.provider_logout_url(settings) if settings.auth0_enabled else "/"
    response = RedirectResponse(destination, status_code=303)
    clear_session_cookie(response, settings)
    return response


def _from_this_site(request: Request, settings: Settings) -> bool:
    # Browsers send Origin with every POST; behind a TLS load balancer the request's
    # own URL may say http, so PUBLIC_URL's origin counts too.
    origin = request.headers.get("origin")
    own = {_origin(settings.public_url), _origin(str(request.base_url))}
    return origin is not None and _origin(origin) in own


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def build_auth_app(settings: Settings, *, run: Runner, oidc_client: Any) -> Starlette:
    """The /auth routes; `run` does their database work, `oidc_client` is the app's
    OpenID Connect client (oidc.build_client; None without Auth0)."""
    routes = [
        Route("/login", login, methods=["GET"]),
        Route("/signup", signup, methods=["GET"]),
        Route("/callback", callback, methods=["GET"]),
        Route("/logout", sign_out_page, methods=["GET"]),
        Route("/logout", logout, methods=["POST"]),
    ]
    if not settings.auth0_enabled and not settings.is_production:
        routes.append(Route("/login", development_login, methods=["POST"]))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=SIGN_IN_COOKIE,
                max_age=SIGN_IN_COOKIE_SECONDS,
                path="/auth",
                same_site="lax",
                https_only=settings.is_production,
            )
        ],
    )
    app.state.settings = settings
    app.state.run = run
    app.state.oidc = oidc_client
    return app
