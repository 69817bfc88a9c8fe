"""The decode memory budget: jobs wait while it is spent, share it across processes, and
a process that dies gives its share back."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imageshare.images.budget import MemoryBudget, TooLarge

MIB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]


def budget(tmp_path, total=100 * MIB, jobs=4) -> MemoryBudget:
    return MemoryBudget(total_bytes=total, max_jobs=jobs, ledger=tmp_path / "ledger.json")


def reserve_in_thread(shared: MemoryBudget, size: int, hold: threading.Event, got: list):
    def run():
        with shared.reserve(size):
            got.append(time.monotonic())
            hold.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_job_waits_while_the_budget_is_spent_and_goes_when_it_is_given_back(tmp_path):
    shared = budget(tmp_path)
    release_first, release_second = threading.Event(), threading.Event()
    first, second = [], []
    a = reserve_in_thread(shared, 70 * MIB, release_first, first)
    while not first:
        time.sleep(0.01)
    b = reserve_in_thread(shared, 50 * MIB, release_second, second)
    time.sleep(0.3)
    assert second == [], "70 + 50 MiB went past a 100 MiB budget"
    assert shared.in_use() == (70 * MIB, 1)
    let_go = time.monotonic()
    release_first.set()
    a.join()
    while not second:
        time.sleep(0.01)
    assert second[0] >= let_go
    assert shared.in_use() == (50 * MIB, 1)
    release_second.set()
    b.join()
    assert shared.in_use() == (0, 0)


def test_small_jobs_run_side_by_side_up_to_the_job_limit(tmp_path):
    shared = budget(tmp_path, jobs=2)
    hold = threading.Event()
    started: list = []
    threads = [reserve_in_thread(shared, MIB, hold, started) for _ in range(3)]
    time.sleep(0.4)
    assert len(started) == 2 and shared.in_use() == (2 * MIB, 2)
    hold.set()
    for thread in threads:
        thread.join()
    assert len(started) == 3 and shared.in_use() == (0, 0)


def test_a_job_larger_than_the_whole_budget_is_refused_at_once(tmp_path):
    shared = budget(tmp_path)
    started = time.monotonic()
    with pytest.raises(TooLarge) as refusal, shared.reserve(101 * MIB):
        pass
    assert time.monotonic() - started < 0.1
    assert (refusal.value.needed, refusal.value.budget) == (101 * MIB, 100 * MIB)
    assert shared.in_use() == (0, 0)


def test_the_budget_is_shared_across_processes_and_a_dead_one_frees_its_share(tmp_path):
    ledger = tmp_path / "ledger.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from pathlib import Path\n"
            "from imageshare.images.budget import MemoryBudget\n"
            f"b = MemoryBudget(total_bytes={100 * MIB}, max_jobs=4, ledger=Path({str(ledger)!r}))\n"
            f"with b.reserve({80 * MIB}):\n"
            "    print('holding', flush=True)\n"
            "    time.sleep(60)\n"
        )],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        shared = MemoryBudget(total_bytes=100 * MIB, max_jobs=4, ledger=ledger)
        assert shared.in_use() == (80 * MIB, 1)
        got: list = []
        hold = threading.Event()
        waiting = reserve_in_thread(shared, 40 * MIB, hold, got)
        time.sleep(0.3)
        assert got == [], "this process ignored the other's reservation"
        holder.kill()  # killed mid-job, as the kernel's OOM killer would: no clean-up runs
        holder.wait()
        waiting_since = time.monotonic()
        while not got and time.monotonic() - waiting_since < 5:
            time.sleep(0.01)
        assert got, "a dead process kept its share of the budget"
        hold.set()
        waiting.join()
    finally:
        holder.kill()
        holder.wait()
