"""Where the app listens: `make run` and `make dev` on loopback unless told otherwise
(their development sign-in lets anyone be anyone); the container on every interface.
And which pages may open the websocket: a loopback PUBLIC_URL allows every loopback
spelling, so the page opens at http://localhost:3000 and http://127.0.0.1:3000 alike."""

import os
import subprocess
from pathlib import Path

import pytest
import reflex as rx

from imageshare.settings import page_origins

REPO_ROOT = Path(__file__).resolve().parents[2]


def reflex_command(target: str, **environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REFLEX_BACKEND_HOST"} | environ
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if "reflex run" in line]
    return line


@pytest.mark.parametrize("target", ["run", "dev"])
def test_make_listens_on_loopback_by_default(target: str) -> None:
    assert "--backend-host 127.0.0.1 " in reflex_command(target)


@pytest.mark.parametrize("target", ["run", "dev"])
def test_make_listens_elsewhere_only_when_told(target: str) -> None:
    assert "--backend-host 0.0.0.0 " in reflex_command(target, REFLEX_BACKEND_HOST="0.0.0.0")


def test_the_container_listens_on_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    # The container's entrypoint takes Reflex's backend_host (scripts/container-entrypoint):
    # nothing in the image may narrow it to loopback, where the published port is useless.
    monkeypatch.delenv("REFLEX_BACKEND_HOST", raising=False)
    assert rx.Config(app_name="imageshare").backend_host == "0.0.0.0"
    assert "REFLEX_BACKEND_HOST=" not in (REPO_ROOT / "Dockerfile").read_text()


def test_a_loopback_public_url_allows_every_loopback_spelling() -> None:
    assert page_origins("http://localhost:3000") == [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    ]
    assert set(page_origins("http://127.0.0.1:8080/")) == {
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
    }


def test_a_public_site_allows_only_its_own_origin() -> None:
    assert page_origins("https://images.example.com") == ["https://images.example.com"]
