"""How much memory rendering an image takes, known from its header; and giving it back.

render_cost(inspection) is what a job reserves from the decode budget before
processing.render() runs: the peak of extra resident memory (VmHWM over the RSS before)
that render takes on that image, from what inspect() read and never from the pixels.

The model follows what render() holds at its three high points, with factors measured on
165 files (every accepted format and mode, 0.75 to 60 megapixels, smooth and noisy
content, each rendered in a fresh process on a thread, as the worker does; the test in
tests/unit/test_decode_memory.py measures the same way):

1. While the decoder runs. JPEG: 4 bytes per decoded pixel at the scale render asks of
   libjpeg (1/2, 1/4 or 1/8), plus, when progressive or multi-scan, every DCT
   coefficient of the full-size image (2 bytes each: 3 bytes a pixel at 4:2:0). PNG and
   GIF: Pillow's image, 1 byte a pixel for P and L, 2 for I;16, 4 for the rest. WebP:
   16 bytes a pixel, for libwebp's animation canvas and its previous canvas (both
   always), the frame copied out to Python, and Pillow's image; plus the file, twice.
   AVIF: the YUV planes twice (the decoder's and libavif's), the RGB buffer and
   Pillow's image; plus the file twice and the decoder threads' buffers.
2. Inside _decode_upright, after the load: the decoded pixels, plus the converted or
   reduced copy (4 bytes a pixel of it) and its bands, plus the rotated copy when
   EXIF asks for one; WebP and AVIF decoders keep their buffers meanwhile (8 to 12
   bytes a pixel), until the file object goes.
3. Making the renditions: the upright image, the Lanczos resize to the largest
   rendition (its intermediate, per pixel of largest-width × source-height), and the
   WebP encodes: 9 bytes per pixel of the largest rendition for smooth content, up to 26
   for noise (libwebp keeps every token of the picture); with transparency 25 to 49,
   and 8 MiB (the lossless alpha encoder). How noisy the content is, is guessed from the
   file's size against what noise of that size would take in that format.

The largest phase, plus 10% (the phases overlap a little differently from run to run)
and 2 MiB, is the estimate. On the 165 files it was never below the measured peak
(1.05 times at the least); the median was 1.25 times, and 9 in 10 were under 1.7. It
is more for images whose transparency turns out to be trivial (an alpha channel all
opaque or all one value, one transparent palette colour), which the header cannot tell:
about 2 times (50 to 65 MiB more) from 3 megapixels up, and up to 3 times (25 MiB
more) at 1 megapixel.

return_freed_memory() gives the memory a render freed back to the system, so that the
next job's reservation matches what the machine really has. Importing this module sets
glibc's malloc to one arena (see _ARENAS), which that needs: import it before the threads
that render start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from PIL import Image

from imageshare.images.inspection import Inspection
from imageshare.images.kinds import RenditionName
from imageshare.images.processing import RENDITION_EDGES, rendition_sizes

MiB = 1024 * 1024

_LARGE = RENDITION_EDGES[RenditionName.LARGE]
# Bytes per pixel of Pillow's image in each mode (RGB is stored in 4 bytes).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# File bytes per pixel of pure noise in each format, at high quality: a file that size
# holds as much detail as a picture can, and encoding its renditions costs the most.
_NOISE_BYTES = {"JPEG": 1.0, "MPO": 1.0, "GIF": 2.5, "AVIF": 0.75, "WEBP": 0.75}
_NOISE_BYTES_LOSSLESS = 0.85  # PNG and lossless WebP, per band
_BANDS = {"1": 1, "L": 1, "P": 1, "I;16": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 3}
# AVIF: samples per pixel of the YUV planes by chroma subsampling ("" means not known).
_CHROMA_SAMPLES = {"4:0:0": 1.0, "4:2:0": 1.5, "4:2:2": 2.0, "4:4:4": 3.0, "": 3.0}
# The WebP encodes, per pixel of the largest rendition: smooth content, noise on top.
_ENCODE, _ENCODE_NOISE = 9.0, 17.0
_ENCODE_ALPHA, _ENCODE_ALPHA_NOISE, _ENCODE_ALPHA_FIXED = 25.0, 24.0, 8 * MiB
# Lanczos to the largest rendition, per pixel of (largest width × source height).
_RESIZE, _RESIZE_ALPHA = 1.7, 3.0
_REDUCE_BANDS = 8 * MiB  # _reduce_in_bands: a band cropped, converted and reduced
# dav1d's buffers: some fixed, some per thread (Pillow gives it one per core it may use).
_AVIF_FIXED, _AVIF_PER_THREAD = 4 * MiB, 3 * MiB
_MARGIN, _FIXED = 1.10, 2 * MiB


def render_cost(inspection: Inspection) -> int:
    """The peak extra memory, in bytes, processing.render() takes on this image: what a
    job reserves before it decodes. Computed from the header alone."""
    fmt, mode, alpha = inspection.format, inspection.mode, inspection.alpha
    width, height = inspection.width, inspection.height
    file_size = inspection.file_size
    # What the decoder produces: JPEGs at the scale render asks of libjpeg.
    if fmt in ("JPEG", "MPO"):
        width_d, height_d = _jpeg_draft_size(width, height)
    else:
        width_d, height_d = width, height
    decoded = width_d * height_d
    # What _decode_upright keeps: reduced by a whole factor when twice the largest edge.
    factor = max(width_d, height_d) // _LARGE
    if factor >= 2:
        width_u, height_u = -(-width_d // factor), -(-height_d // factor)
    else:
        width_u, height_u = width_d, height_d
    upright = width_u * height_u
    large_w, large_h = rendition_sizes((width_u, height_u))[-1][1]
    large = large_w * large_h
    mode_bytes = _MODE_BYTES.get(mode, 4)
    copies = factor >= 2 or mode != ("RGBA" if alpha else "RGB")

    # 1. The decoder at work; what it keeps afterwards, as long as its file object lives.
    kept = 0
    if fmt in ("JPEG", "MPO"):
        decoding: float = 4 * decoded + (
            jpeg_coefficient_bytes(inspection) if inspection.progressive else 0
        )
    elif fmt == "WEBP":
        decoding = 16 * decoded + 2 * file_size
        kept = (12 if inspection.lossless else 8) * decoded + 2 * file_size
    elif fmt == "AVIF":
        planes = _CHROMA_SAMPLES.get(inspection.chroma, 3.0) + (1 if alpha else 0)
        yuv = planes * (2 if inspection.bit_depth > 8 else 1)
        out = {"L": 2, "RGB": 7}.get(mode, 8)  # libavif's buffer, then Pillow's image
        threads = _AVIF_FIXED + _AVIF_PER_THREAD * _cores()
        decoding = (2 * yuv + out) * decoded + 2 * file_size + threads
        kept = int((1.5 * yuv + 1) * decoded) + 2 * file_size
    else:  # PNG, GIF
        decoding = mode_bytes * decoded

    # 2. _decode_upright: the decoded pixels, their reduced or converted copy, a rotation.
    if factor >= 2:
        work = 4 * upright + _REDUCE_BANDS * (3 if mode.startswith("I") else 1)
    elif mode.startswith("I"):  # 16-bit grey: to 32-bit, scaled, to 8-bit, to RGB
        work = 9 * decoded
    elif copies:
        work = 4 * decoded
    else:
        work = 0
    rotated = inspection.orientation != 1
    converting = mode_bytes * decoded + kept + work + (4 * upright if rotated else 0)

    # 3. The renditions, from the upright image.
    if alpha:
        encode = (_ENCODE_ALPHA + _ENCODE_ALPHA_NOISE * _detail(inspection)) * large
        encode += _ENCODE_ALPHA_FIXED
        resize = _RESIZE_ALPHA * large_w * height_u if large != upright else 0
    else:
        encode = (_ENCODE + _ENCODE_NOISE * _detail(inspection)) * large
        resize = _RESIZE * large_w * height_u if large != upright else 0
    rendering = 4 * upright + encode + resize

    return int(max(decoding, converting, rendering) * _MARGIN) + _FIXED


def _jpeg_draft_size(width: int, height: int) -> tuple[int, int]:
    """The size libjpeg decodes at for render (processing._decode_upright asks Pillow's
    draft() for the largest rendition's size; Pillow picks 1/1, 1/2, 1/4 or 1/8)."""
    scale = min(1.0, _LARGE / max(width, height))
    wanted = (max(1, int(width * scale)), max(1, int(height * scale)))
    ratio = min(width // wanted[0], height // wanted[1])
    step = next(s for s in (8, 4, 2, 1) if ratio >= s)
    return -(-width // step), -(-height // step)


def jpeg_coefficient_bytes(inspection: Inspection) -> int:
    """Bytes libjpeg holds for the coefficients of a progressive (or multi-scan) JPEG:
    every 8×8 block of every component, 64 coefficients of 2 bytes each, whatever the
    scale it decodes at."""
    sampling = inspection.sampling or ((1, 1),) * 4  # not known: the most, CMYK unsampled
    h_max = max(h for h, _ in sampling)
    v_max = max(v for _, v in sampling)
    total = 0
    for h, v in sampling:
        blocks_wide = -(-inspection.width * h // (8 * h_max))
        blocks_high = -(-inspection.height * v // (8 * v_max))
        # Arrays are padded to whole MCUs (jdcoefct.c: jround_up to the sampling factor).
        total += (-(-blocks_wide // h) * h) * (-(-blocks_high // v) * v)
    return total * 128


def _cores() -> int:
    """The threads Pillow gives the AVIF decoder (AvifImagePlugin's default)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _detail(inspection: Inspection) -> float:
    """0 (flat) to 1 (noise): the file's bytes per pixel against noise's in its format."""
    fmt, pixels = inspection.format, inspection.width * inspection.height
    if not inspection.file_size:  # not known: the worst
        return 1.0
    if fmt == "PNG" or (fmt == "WEBP" and inspection.lossless):
        noise = _NOISE_BYTES_LOSSLESS * _BANDS.get(inspection.mode, 4)
    else:
        noise = _NOISE_BYTES.get(fmt, 1.0)
    return min(1.0, inspection.file_size / (pixels * noise))


# --- giving memory back ------------------------------------------------------------

_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    # musl and the BSDs' libc have neither: nothing to tune there.
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()
# glibc gives a thread that allocates while another holds the lock an arena of its own
# (up to 8 per core), in heaps of 64 MiB; malloc_trim() returns the free pages of every
# arena but cannot shrink the top of those heaps. Measured: 25 to 65 MiB stayed resident
# after renders on threads, trimmed or not. With one arena, trimming brings the process
# back to within a MiB of where it was, and renders took the same time (Pillow, libjpeg
# and libwebp allocate in large pieces, rarely). The other cure, a fixed mmap threshold
# (M_MMAP_THRESHOLD, which also ends glibc's dynamic one), returned memory as well but
# made renders 15 to 20% slower: every large buffer is mapped and faulted in again.
# Pillow needs nothing: since 11.2 it allocates each image in one piece and caches no
# blocks (Image.core.get_blocks_max() is 0 unless PILLOW_BLOCKS_MAX says otherwise).
# Threads that already have an arena keep it: import this module before the threads
# that render start, or set MALLOC_ARENA_MAX=1 in the environment.
_ARENAS = 1
if _LIBC is not None:
    _LIBC.mallopt(_M_ARENA_MAX, _ARENAS)


def return_freed_memory() -> None:
    """Give the memory freed since the last call back to the system: glibc's free pages
    (malloc_trim) and any image blocks Pillow caches. A no-op where neither applies.

    Call it after each render: a render of a 60 MP image otherwise leaves up to 90 MiB
    resident that nothing uses.
    """
    # PIL.Image imports its C module as `core` without re-exporting it.
    Image.core.clear_cache()  # type: ignore[attr-defined]
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
