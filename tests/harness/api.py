"""The GraphQL API in this process (Starlette's TestClient over the app's own routes),
on a fresh, migrated database of each kind and a local media folder: for tests that
look inside the database and storage around each call (statements, rows, files)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from imageshare.auth import access_tokens
from imageshare.auth.viewer import Viewer
from imageshare.routes import build_api
from imageshare.settings import load_settings
from imageshare.wiring import Wiring
from tests.harness.database import upgrade, wired

SITE = "http://testserver"


@dataclass
class Api:
    client: TestClient
    media_root: Path
    app: Wiring  # the wiring the API was built with: its database, storage and events

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The JSON answer of one operation (HTTP 200 asserted)."""
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=_auth(token) | (headers or {}),
        )
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs) -> dict:
        """The data of an operation that must succeed."""
        body = self.post(query, variables, **kwargs)
        assert "errors" not in body, body
        return body["data"]

    def error_code(self, query: str, variables: dict[str, Any] | None = None, **kwargs) -> str:
        """The code of an operation that must fail."""
        body = self.post(query, variables, **kwargs)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]

    def token(self, viewer: Viewer) -> str:
        with self.app.session() as db:
            return access_tokens.create(db, viewer=viewer, name="tests")[1]

    def media_files(self) -> list[str]:
        return sorted(str(p.relative_to(self.media_root)) for p in self.media_root.rglob("*")
                      if p.is_file())  # fmt: skip


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, tmp_path, monkeypatch) -> Iterator[Api]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'api.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    upgrade(url)
    media_root = tmp_path / "media"
    for name, value in {
        "IMAGESHARE_ENV": "development", "DATABASE_URL": url, "STORAGE_BACKEND": "local",
        "MEDIA_ROOT": str(media_root), "PUBLIC_URL": SITE, "MAX_UPLOAD_BYTES": "2000000",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "AUTH0_DOMAIN", "AUTH0_AUDIENCE", "AUTH0_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    # Closing the wiring closes its jobs: no job of this test runs on into the next.
    with wired(load_settings()) as app, TestClient(build_api(app), base_url=SITE) as client:
        yield Api(client=client, media_root=media_root, app=app)
