"""Rendition pipeline benchmark: imageshare (Pillow) against libvips, same job, same machine.

For a deterministic 24- and 12-megapixel JPEG, both pipelines make the three WebP
renditions (300, 1024 and 2048 pixels on the longest edge, quality 80, no metadata).
Time: alternating runs in this process, medians. Peak memory: each pipeline once in a
fresh process, its maximum resident set size. Printed as ratios imageshare ÷ libvips
(target: ≤ 1.0 for both).

    .venv/bin/python bench/renditions.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

SIZES = {"24 MP": (6000, 4000), "12 MP": (4240, 2832)}
EDGES = (300, 1024, 2048)
QUALITY = 80


def imageshare_pipeline(path: Path) -> int:
    from imageshare.images import processing

    result = processing.render(path)
    return sum(len(r.data) for r in result.renditions)


def libvips_pipeline(path: Path) -> int:
    import pyvips

    total = 0
    for edge in EDGES:
        # thumbnail() shrinks on load (JPEG DCT scaling), as a libvips user would.
        image = pyvips.Image.thumbnail(str(path), edge, height=edge, size="down")
        total += len(image.webpsave_buffer(Q=QUALITY, effort=4, keep="none"))
    return total


PIPELINES = {"imageshare": imageshare_pipeline, "libvips": libvips_pipeline}


def make_samples(folder: Path) -> dict[str, Path]:
    from tests import samples

    paths = {}
    for label, (width, height) in SIZES.items():
        path = folder / f"{label.replace(' ', '')}.jpg"
        path.write_bytes(samples.jpeg(width, height, quality=90))
        paths[label] = path
    return paths


def time_runs(path: Path, runs: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {name: [] for name in PIPELINES}
    for pipeline in PIPELINES.values():  # warm up: imports, caches
        pipeline(path)
    for _ in range(runs):
        for name, pipeline in PIPELINES.items():  # alternate, so drift hits both alike
            start = time.perf_counter()
            pipeline(path)
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def peak_memory_mib(name: str, path: Path) -> float:
    """Run one pipeline in a fresh process and return that process's peak RSS."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout.strip())


def child(name: str, path: Path) -> None:
    PIPELINES[name](Path(path))
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]) / 1024)  # KiB -> MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory() as folder:
        samples = make_samples(Path(folder))
        print(f"renditions {EDGES} as WebP q{QUALITY}; median of {args.runs} alternating runs")
        print(f"{'image':8} {'imageshare':>12} {'libvips':>10} {'time ratio':>11}"
              f" {'peak MiB':>10} {'libvips MiB':>12} {'memory ratio':>13}")  # fmt: skip
        for label, path in samples.items():
            times = time_runs(path, args.runs)
            memory = {name: peak_memory_mib(name, path) for name in PIPELINES}
            print(
                f"{label:8} {times['imageshare']:>11.3f}s {times['libvips']:>9.3f}s"
                f" {times['imageshare'] / times['libvips']:>11.2f}"
                f" {memory['imageshare']:>10.0f} {memory['libvips']:>12.0f}"
                f" {memory['imageshare'] / memory['libvips']:>13.2f}"
            )


if __name__ == "__main__":
    main()
