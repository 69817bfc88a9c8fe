"""Decode memory, measured: inspect() reads a decompression bomb without decoding it,
render_cost() covers what render() really takes without starving the budget, and the
memory a render frees goes back to the system.

Peak memory is per process (VmHWM), so each measurement runs in a fresh interpreter. It
imports the app, renders a tiny image (codecs loaded, as in a worker that has run once),
gives the memory back, resets the peak (/proc/self/clear_refs), then makes the one call
on a thread of its own, as the worker does.
"""

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from imageshare.images import decode_memory
from imageshare.images.inspection import inspect
from tests import samples

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from /proc (Linux)"
)

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]

# inspect() on a bomb: measured at under 1 MiB for each (the structure is read a block
# at a time); the bound leaves room for the allocator's moods.
INSPECT_BOUND = 8 * MiB
# render_cost may exceed the measured peak by this factor at most...
OVERESTIMATE = 1.6
# ...or by this much, whichever is more: for small images the estimate's fixed parts
# (the lossless alpha encoder, a margin) weigh more than the ratio says and cost little.
SMALL_SLACK = 8 * MiB
# What stays resident after a render and return_freed_memory(): measured at under 1 MiB.
RETURN_BOUND = 16 * MiB

CHILD = r"""
import json, sys, threading, traceback
from pathlib import Path
from imageshare.images import decode_memory, inspection, processing  # decode_memory first: one arena
from PIL import Image

call, path = sys.argv[1], Path(sys.argv[2])


def status(key):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024


warm = path.with_name(f"warm-{path.name}.png")
Image.new("RGB", (64, 48), "gray").save(warm)
processing.render(warm)
decode_memory.return_freed_memory()
try:
    with open("/proc/self/clear_refs", "w") as peak:
        peak.write("5")  # the peak starts again from here
except OSError:
    pass  # then the peak includes start-up, which is lower than any call measured here
before = status("VmRSS")
failure = []


def run():
    try:
        if call == "inspect":
            inspection.inspect(path, max_pixels=10**9)
        else:
            processing.render(path)
    except BaseException:
        failure.append(traceback.format_exc())


worker = threading.Thread(target=run)
worker.start()
worker.join()
peak = status("VmHWM") - before
left = status("VmRSS") - before
decode_memory.return_freed_memory()
returned = status("VmRSS") - before
print(json.dumps(dict(peak=peak, left=left, returned=returned, failure=failure)))
"""


@functools.cache
def measure(call: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, call, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.splitlines()[-1])
    assert not result["failure"], result["failure"][0]
    return result


def transparent_photo(width: int, height: int) -> Image.Image:
    """A cut-out, as product photos are: the picture inside an ellipse, clear outside."""
    image = samples.photo(width, height).convert("RGBA")
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width // 8, height // 8, width * 7 // 8, height * 7 // 8), 255)
    image.putalpha(mask)
    return image


BOMBS = {
    "bomb.webp": samples.webp_bomb,  # lossless, 16383×3662
    "bomb-animated.webp": samples.animated_webp_bomb,  # 7745×7745, two frames
    "bomb.png": samples.png_bomb,  # 7745×7745 RGB
    "bomb-palette.png": functools.partial(samples.png_bomb, mode="P"),
    "bomb-progressive.jpg": samples.progressive_jpeg_bomb,  # 9000×6600
    "bomb.gif": samples.gif_bomb,  # 7745×7745, two frames
}
ORDINARY = {
    "photo-24mp.jpg": lambda: samples.jpeg(6000, 4000),
    "cut-out.png": lambda: samples.encoded(transparent_photo(2000, 1500), "PNG"),
    "small.gif": lambda: samples.encoded(samples.photo(640, 480), "GIF"),
    "photo.avif": lambda: samples.encoded(samples.photo(1600, 1200), "AVIF", speed=10),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("decode-memory")
    paths = {}
    for name, make in {**BOMBS, **ORDINARY}.items():
        paths[name] = folder / name
        paths[name].write_bytes(make())
    return paths


@pytest.mark.parametrize("name", BOMBS)
def test_inspect_reads_a_bomb_without_decoding_it(files, name):
    info = inspect(files[name], max_pixels=60_000_000)
    assert info.width * info.height > 50_000_000
    assert files[name].stat().st_size < 500_000  # tiny on disk
    peak = measure("inspect", files[name])["peak"]
    assert peak < INSPECT_BOUND, f"inspect took {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("name", [*BOMBS, *ORDINARY])
def test_render_cost_covers_render_and_is_not_wildly_more(files, name):
    cost = decode_memory.render_cost(inspect(files[name], max_pixels=60_000_000))
    peak = measure("render", files[name])["peak"]
    assert peak <= cost, f"render took {peak / MiB:.1f} MiB, estimated {cost / MiB:.1f} MiB"
    assert cost <= max(OVERESTIMATE * peak, peak + SMALL_SLACK), (
        f"estimated {cost / MiB:.1f} MiB for a render that took {peak / MiB:.1f} MiB"
    )


def test_cheap_transparency_is_overestimated_but_boundedly(files, tmp_path):
    # How much libwebp's alpha encoder takes depends on the alpha's content: a two-level
    # mask packs 8 pixels a byte, a gradient does not. The header cannot tell, so the
    # estimate is the gradient's: for a small mask, about twice what it takes (the peak
    # itself varies by a few MiB from run to run at this size), never 25 MiB more.
    path = tmp_path / "mask.webp"
    path.write_bytes(samples.encoded(transparent_photo(1000, 750), "WEBP"))
    cost = decode_memory.render_cost(inspect(path, max_pixels=60_000_000))
    peak = measure("render", path)["peak"]
    assert peak <= cost <= max(2 * peak, peak + 25 * MiB)


def test_memory_freed_by_a_render_goes_back_to_the_system(files):
    result = measure("render", files["bomb.webp"])
    assert result["peak"] > 500 * MiB  # the bomb was decoded: about 915 MiB
    assert result["returned"] < RETURN_BOUND, (
        f"{result['returned'] / MiB:.1f} MiB still resident after return_freed_memory()"
        f" ({result['left'] / MiB:.1f} MiB before it)"
    )


def test_render_cost_needs_only_the_header(files):
    # The bombs' estimates: what the budget will reserve, from a few hundred bytes read.
    costs = {
        name: decode_memory.render_cost(inspect(files[name], max_pixels=60_000_000)) / MiB
        for name in BOMBS
    }
    assert 900 < costs["bomb.webp"] < 1100  # libwebp holds 16 bytes a pixel
    assert 170 < costs["bomb-progressive.jpg"] < 230  # 170 MiB of DCT coefficients
    assert costs["bomb.gif"] < 150  # a palette image, reduced a band at a time


def test_jpeg_coefficients_are_counted_as_libjpeg_allocates_them(files):
    info = inspect(files["bomb-progressive.jpg"], max_pixels=60_000_000)
    assert info.progressive and info.sampling == ((2, 2), (1, 1), (1, 1))
    # 9000×6600 at 4:2:0: 1126×826 luma blocks and 563×413 of each chroma, 128 bytes each.
    assert decode_memory.jpeg_coefficient_bytes(info) == (1126 * 826 + 2 * 563 * 413) * 128
