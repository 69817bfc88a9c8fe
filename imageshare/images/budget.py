"""The memory budget for decoding: a job reserves the memory its image will take before
it decodes, and waits while the budget is spent.

One budget is shared by every process of the app's process group: `reflex run` with
Redis starts several server processes, and each processing images on its own budget
would multiply it. The ledger is a small JSON file under the system's temporary folder,
changed only under an exclusive `flock`; each reservation names its process, so the
reservations of a process that died (killed by the kernel, say) are dropped at the next
look instead of holding the budget for ever. The same ledger bounds how many jobs run
at once across the group (WORKER_CONCURRENCY).

A job larger than the whole budget is refused (TooLarge) rather than attempted: it could
never fit, and attempting it anyway is how one upload takes a task down.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# How often a waiting job looks again; short enough to be idle-cheap and responsive.
POLL_SECONDS = 0.05


class TooLarge(Exception):
    """The job needs more memory than the whole budget."""

    def __init__(self, needed: int, budget: int):
        super().__init__(f"needs {needed} bytes of a {budget}-byte budget")
        self.needed, self.budget = needed, budget


class MemoryBudget:
    def __init__(self, *, total_bytes: int, max_jobs: int, ledger: Path | None = None):
        self.total_bytes = total_bytes
        self.max_jobs = max_jobs
        self.ledger = ledger or default_ledger()
        # Threads of this process take turns at the file lock (flock is per open file).
        self._local = threading.Lock()

    @contextmanager
    def reserve(self, needed: int) -> Iterator[None]:
        """Hold `needed` bytes and one job slot for the block; waits until both are free.

        Raises TooLarge at once when `needed` exceeds the whole budget.
        """
        if needed > self.total_bytes:
            raise TooLarge(needed, self.total_bytes)
        token = f"{os.getpid()}:{uuid.uuid4().hex}"
        while not self._try_take(token, needed):
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            self._give_back(token)

    def in_use(self) -> tuple[int, int]:
        """(bytes reserved, jobs running) across the group, for tests and logs."""
        with self._ledger() as entries:
            return sum(entries.values()), len(entries)

    def _try_take(self, token: str, needed: int) -> bool:
        with self._ledger() as entries:
            if len(entries) >= self.max_jobs:
                return False
            if sum(entries.values()) + needed > self.total_bytes:
                return False
            entries[token] = needed
            return True

    def _give_back(self, token: str) -> None:
        with self._ledger() as entries:
            entries.pop(token, None)

    @contextmanager
    def _ledger(self) -> Iterator[dict[str, int]]:
        """The reservations of live processes, to read and change under the file's lock."""
        with self._local, open(self.ledger, "a+") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                file.seek(0)
                entries = _live(_parse(file.read()))
                before = dict(entries)
                yield entries
                if entries != before:
                    # Rewritten in place under the lock: readers hold the same lock, and
                    # a crash mid-write leaves text that _parse takes for no reservations.
                    file.seek(0)
                    file.truncate()
                    file.write(json.dumps(entries))
                    file.flush()
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)


def default_ledger() -> Path:
    """The ledger of this process group: the app server and the workers it started."""
    return group_ledger(os.getpgid(0))


def group_ledger(pgid: int) -> Path:
    """The ledger of process group `pgid` (tools and tests look at another group's)."""
    return Path(tempfile.gettempdir()) / f"imageshare-budget-{os.getuid()}-{pgid}.json"


def _parse(text: str) -> dict[str, int]:
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _live(entries: dict[str, int]) -> dict[str, int]:
    alive: dict[int, bool] = {}
    result = {}
    for token, size in entries.items():
        pid = int(token.split(":", 1)[0])
        if pid not in alive:
            alive[pid] = _is_alive(pid)
        if alive[pid]:
            result[token] = size
    return result


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id: not ours to judge
    return True
