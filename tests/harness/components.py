"""Shared helpers for the servers the tests start: ports, waiting, stopping, failing loudly."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def missing_component(message: str):
    """A component the tests need is not there: always a failure, never a skip.

    `make test` installs everything; a missing piece means the machine or the
    set-up is wrong, and a quietly skipped suite would hide that.
    """
    pytest.fail(f"{message} (CI={os.environ.get('CI', 'false')})", pytrace=False)


# Below Linux's ephemeral range (32768+), where outgoing connections take their local
# ports: a port picked there can be taken by a client before our server binds it (the
# app server binds only after a build of half a minute). The +10000 gRPC ports of
# SeaweedFS stay below it too.
_PORT_RANGE = (15000, 22500)
_handed_out: set[int] = set()


def free_port(*, also_free: tuple[int, ...] = ()) -> int:
    """A port nobody listens on at 127.0.0.1, not handed out before in this session.
    `also_free` offsets must be free too (SeaweedFS opens each HTTP port + 10000)."""
    for _ in range(500):
        port = random.randint(*_PORT_RANGE)
        wanted = [port + offset for offset in (0, *also_free)]
        if _handed_out.isdisjoint(wanted) and all(_is_free(p) for p in wanted):
            _handed_out.update(wanted)
            return port
    raise RuntimeError("no free port found")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(
    ready: Callable[[], bool], *, timeout: float, process: subprocess.Popen, what: str, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {process.returncode} before it was ready; "
                f"last lines of {log}:\n{tail(log)}"
            )
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"{what} was not ready after {timeout:.0f}s; last lines of {log}:\n{tail(log)}"
    )


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def start_process(command: list[str], *, env: dict[str, str], log: Path, cwd: Path = REPO_ROOT):
    """Start a server in its own process group, so stopping it stops its workers too."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen, *, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def run_async(coroutine):
    """Run a coroutine to completion from a sync test.

    Its own thread and loop: Playwright's sync API keeps an event loop running in
    the main thread while the session's browser is open, and asyncio.run refuses that.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
