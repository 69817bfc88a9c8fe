"""Rendition pipeline benchmark: imageshare (Pillow) against libvips used well, same job.

For a deterministic 24- and 12-megapixel JPEG, each pipeline makes the three WebP
renditions (300, 1024 and 2048 pixels on the longest edge, quality 80, effort/method 4,
no metadata):

- imageshare: `processing.render`, as the workers run it.
- imageshare (before): the previous `render`, kept here to compare in the same run: the
  resize chain on one thread (2048, then 1024 from it, then 300), each encode handed to
  a pool of three threads as soon as its rendition exists.
- libvips, used well: one shrink-on-load `thumbnail` to 2048 copied to memory (so the
  smaller ones do not decode again), the 1024 and 300 made from it in memory, the three
  `webpsave_buffer` encodes on three threads (pyvips releases the GIL), the largest
  started first.

Time: alternating runs in this process, medians, with the share of the CPUs other
processes took meanwhile (on a busy machine the pipeline that uses less CPU wins, on an
idle one the shorter critical path). Peak memory: each pipeline once in a fresh process,
its maximum resident set size (VmHWM). Printed as ratios imageshare ÷ libvips (target:
≤ 1.0 for both). `--stages` also prints each step's cost on one thread, the profile the
pipelines are built from.

    .venv/bin/python bench/renditions.py [--runs 9] [--stages]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

SIZES = {"24 MP": (6000, 4000), "12 MP": (4240, 2832)}
EDGES = (300, 1024, 2048)
QUALITY = 80
EFFORT = 4


def imageshare_pipeline(path: Path) -> list[tuple[int, int, int]]:
    from imageshare.images import processing

    result = processing.render(path)
    return [(r.width, r.height, len(r.data)) for r in result.renditions]


def before_pipeline(path: Path) -> list[tuple[int, int, int]]:
    """`render` as it was (commit bba27d0), on today's decode: the same pixels and bytes."""
    from PIL import Image

    from imageshare.images import processing

    def encode(frame: Image.Image) -> tuple[int, int, int]:
        out = io.BytesIO()
        frame.save(out, "WEBP", quality=QUALITY, method=EFFORT)
        return (frame.width, frame.height, len(out.getvalue()))

    with Image.open(path) as image:
        processing.read_metadata(image)
        upright = processing._decode_upright(image)
    sizes = processing.rendition_sizes(upright.size)
    with ThreadPoolExecutor(max_workers=len(sizes)) as pool:
        pending = []
        source, upright = upright, None
        for _, size in reversed(sizes):
            if source.size != size:
                source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            pending.append(pool.submit(encode, source))
        processing.placeholder(source)
        return [future.result() for future in reversed(pending)]


def libvips_pipeline(path: Path) -> list[tuple[int, int, int]]:
    import pyvips

    # Each run decodes and encodes for real: no operation cache (distinct uploads never hit it).
    pyvips.cache_set_max(0)

    def encode(image: pyvips.Image) -> tuple[int, int, int]:
        data = image.webpsave_buffer(Q=QUALITY, effort=EFFORT, keep="none")
        return (image.width, image.height, len(data))

    largest = EDGES[-1]
    # Shrink-on-load (JPEG DCT scaling) then Lanczos 3, in memory: the smaller renditions
    # are made from these pixels, not from the file again.
    large = pyvips.Image.thumbnail(str(path), largest, height=largest, size="down")
    large = large.copy_memory()
    with ThreadPoolExecutor(max_workers=len(EDGES)) as pool:
        pending = [pool.submit(encode, large)]  # the longest encode first
        for edge in reversed(EDGES[:-1]):
            smaller = large.thumbnail_image(edge, height=edge, size="down")
            pending.append(pool.submit(encode, smaller))
        return [future.result() for future in reversed(pending)]


PIPELINES = {
    "before": before_pipeline,
    "imageshare": imageshare_pipeline,
    "libvips": libvips_pipeline,
}


def make_samples(folder: Path) -> dict[str, Path]:
    from tests import samples

    paths = {}
    for label, (width, height) in SIZES.items():
        path = folder / f"{label.replace(' ', '')}.jpg"
        path.write_bytes(samples.jpeg(width, height, quality=90))
        paths[label] = path
    return paths


def time_runs(path: Path, runs: int) -> tuple[dict[str, float], float]:
    """Median seconds per pipeline, and the share of the CPUs other processes took
    meanwhile (the noise: the figures only mean something when it is near 0)."""
    timings: dict[str, list[float]] = {name: [] for name in PIPELINES}
    for pipeline in PIPELINES.values():  # warm up: imports, caches
        pipeline(path)
    busy, own, start = _busy_ticks(), _own_ticks(), time.perf_counter()
    for _ in range(runs):
        for name, pipeline in PIPELINES.items():  # alternate, so drift hits all alike
            began = time.perf_counter()
            pipeline(path)
            timings[name].append(time.perf_counter() - began)
    available = (time.perf_counter() - start) * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
    others = ((_busy_ticks() - busy) - (_own_ticks() - own)) / available
    return {name: statistics.median(values) for name, values in timings.items()}, max(0.0, others)


def _busy_ticks() -> int:
    """Clock ticks all CPUs spent working since boot (not idle, not waiting on I/O)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4]


def _own_ticks() -> float:
    times = os.times()
    return (times.user + times.system) * os.sysconf("SC_CLK_TCK")


def peak_memory_mib(name: str, path: Path) -> float:
    """Run one pipeline in a fresh process and return that process's peak RSS."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout.strip())


def child(name: str, path: str) -> None:
    PIPELINES[name](Path(path))
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]) / 1024)  # KiB -> MiB


def stages(path: Path, runs: int) -> None:
    """Each step of both pipelines on one thread, median milliseconds: the profile."""
    import pyvips
    from PIL import Image

    from imageshare.images import processing

    def ms(step) -> str:
        values = []
        for _ in range(runs):
            start = time.perf_counter()
            step()
            values.append((time.perf_counter() - start) * 1000)
        return f"{statistics.median(values):6.1f}"

    def decode():
        with Image.open(path) as image:
            return processing._decode_upright(image)

    def webp(frame):
        out = io.BytesIO()
        frame.save(out, "WEBP", quality=QUALITY, method=EFFORT)

    def metadata():
        with Image.open(path) as image:
            processing.read_metadata(image)

    upright = decode()
    (_, thumb), (_, medium), (_, large) = processing.rendition_sizes(upright.size)
    lanczos = Image.Resampling.LANCZOS
    big = upright.resize(large, lanczos, reducing_gap=3.0)
    mid = big.resize(medium, lanczos, reducing_gap=3.0)
    small = mid.resize(thumb, lanczos, reducing_gap=3.0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        halves = ms(lambda: processing._resize(upright, large, pool))
    print(f"  imageshare steps (ms): metadata {ms(metadata)}, decode {ms(decode)}")
    print(
        f"    resize {upright.width}→{large[0]} {ms(lambda: upright.resize(large, lanczos))}"
        f" (in two halves on two threads {halves}),"
        f" →{medium[0]} {ms(lambda: big.resize(medium, lanczos, reducing_gap=3.0))},"
        f" →{thumb[0]} {ms(lambda: mid.resize(thumb, lanczos, reducing_gap=3.0))}"
    )
    print(
        f"    webp {large[0]} {ms(lambda: webp(big))}, {medium[0]} {ms(lambda: webp(mid))},"
        f" {thumb[0]} {ms(lambda: webp(small))};"
        f" placeholder {ms(lambda: processing.placeholder(small))}"
    )

    pyvips.cache_set_max(0)

    def thumbnail():
        return pyvips.Image.thumbnail(str(path), EDGES[-1], height=EDGES[-1]).copy_memory()

    vbig = thumbnail()
    vmid = vbig.thumbnail_image(EDGES[1], height=EDGES[1]).copy_memory()
    vsmall = vbig.thumbnail_image(EDGES[0], height=EDGES[0]).copy_memory()

    def vwebp(image):
        image.webpsave_buffer(Q=QUALITY, effort=EFFORT, keep="none")

    print(
        f"  libvips steps (ms): thumbnail {EDGES[-1]} + copy_memory {ms(thumbnail)}"
        f" (its own threads), {EDGES[1]} from it"
        f" {ms(lambda: vbig.thumbnail_image(EDGES[1], height=EDGES[1]).copy_memory())},"
        f" {EDGES[0]} from it"
        f" {ms(lambda: vbig.thumbnail_image(EDGES[0], height=EDGES[0]).copy_memory())}"
    )
    print(
        f"    webp {EDGES[-1]} {ms(lambda: vwebp(vbig))}, {EDGES[1]} {ms(lambda: vwebp(vmid))},"
        f" {EDGES[0]} {ms(lambda: vwebp(vsmall))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--stages", action="store_true", help="also print each step's cost")
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory() as folder:
        samples = make_samples(Path(folder))
        for label, path in samples.items():  # the same job: same sizes, similar files
            made = {name: pipeline(path) for name, pipeline in PIPELINES.items()}
            print(f"{label}: " + "; ".join(f"{name} {made[name]}" for name in PIPELINES))
        print(
            f"renditions {EDGES} as WebP q{QUALITY} effort {EFFORT}; median of {args.runs}"
            " alternating runs; peak RSS of a fresh process each; ratios imageshare ÷ libvips"
            " (before's in brackets); other load: the CPUs' share other processes took while"
            " timing (the figures hold when it is near 0%)"
        )
        print(
            f"{'image':6} {'before':>8} {'imageshare':>10} {'libvips':>8} {'time ratio':>12}"
            f" {'MiB before':>10} {'imageshare':>10} {'libvips':>8} {'memory ratio':>13}"
            f" {'other load':>12}"
        )
        for label, path in samples.items():
            times, others = time_runs(path, args.runs)
            memory = {name: peak_memory_mib(name, path) for name in PIPELINES}
            ratio = times["imageshare"] / times["libvips"]
            before = times["before"] / times["libvips"]
            memory_ratio = memory["imageshare"] / memory["libvips"]
            memory_before = memory["before"] / memory["libvips"]
            print(
                f"{label:6} {times['before']:>7.3f}s {times['imageshare']:>9.3f}s"
                f" {times['libvips']:>7.3f}s {ratio:>5.2f} ({before:.2f})"
                f" {memory['before']:>10.0f} {memory['imageshare']:>10.0f}"
                f" {memory['libvips']:>8.0f} {memory_ratio:>5.2f} ({memory_before:.2f})"
                f" {others:>12.0%}"
            )
        if args.stages:
            for label, path in samples.items():
                print(label)
                stages(path, args.runs)


if __name__ == "__main__":
    main()
