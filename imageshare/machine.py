"""What this machine (or container) gives a process: cores and memory, for defaults.

Containers see the host's CPUs and memory through os.cpu_count() and /proc/meminfo;
their real limits are the cgroup's, read here first.
"""

from __future__ import annotations

import os
from pathlib import Path

_CGROUP = Path("/sys/fs/cgroup")


def cores() -> int:
    """CPUs this process may use: the cgroup's quota, else its affinity mask."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    available = available or os.cpu_count() or 1
    try:
        quota, period = (_CGROUP / "cpu.max").read_text().split()
        if quota != "max":
            return max(1, min(available, int(int(quota) / int(period) + 0.5)))
    except (OSError, ValueError):
        pass
    return available


def memory_bytes() -> int:
    """Memory this process may use: the cgroup's limit, else the machine's."""
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        if limit != "max":
            return int(limit)
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 2 * 1024**3


def default_memory_budget() -> int:
    """Half the memory for decoding images: the rest is the server itself, its
    connections and the encoded renditions in flight (WORKER_MEMORY_BUDGET)."""
    return memory_bytes() // 2
