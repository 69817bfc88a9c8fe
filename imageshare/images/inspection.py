"""What an uploaded file is, read from its header and its structure, never from its pixels.

inspect() runs on every upload, in the web tier, before anything is stored: it must
cost the same small amount of memory whatever the file claims to be. So it reads the
header (format, size, mode, orientation) and walks the file's structure as far as that
is cheap — PNG chunks and their CRCs without inflating, JPEG markers to the end of the
image, WebP's RIFF chunks, GIF's blocks, AVIF's boxes — to refuse what is truncated or
damaged there. Decoding the pixels is the processing tier's job (processing.render,
under the memory budget), which refuses what only decoding shows.

What inspect() reads is also what decode_memory.render_cost() needs.
"""

from __future__ import annotations

import os
import re
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError
from PIL.ExifTags import Base

from imageshare.images.kinds import ACCEPTED_FORMATS, READABLE_FORMATS

# What Pillow says a file is -> the type we record. Decided by the content, never by name.
# We check the pixel count ourselves, from the header, before anything is decoded
# (inspect, and again in the worker) against MAX_IMAGE_PIXELS. Pillow has a guard of its
# own, one number for the whole process (Image.MAX_IMAGE_PIXELS), which the app sets
# from the same setting when it is assembled (wiring.build_wiring): past twice that
# number Pillow refuses to open a file at all, which inspect() reports as the same
# refusal as its own check.


class RejectedImage(ValueError):
    """The file is not an image we accept; the message says why, for a person."""


@dataclass(frozen=True)
class Inspection:
    format: str
    content_type: str
    width: int  # as stored, before EXIF orientation
    height: int
    # From the header and the structure walk, for decode_memory.render_cost:
    mode: str = "RGB"  # Pillow's mode for the first frame: RGB, RGBA, L, LA, P, 1, I;16, CMYK
    alpha: bool = False  # rendered with transparency (RGBA)
    frames: int = 1  # frames of an animation; only the first is rendered
    progressive: bool = False  # JPEG: progressive or multi-scan, every coefficient is held
    sampling: tuple[tuple[int, int], ...] = ()  # JPEG: (horizontal, vertical) per component
    lossless: bool = False  # WebP: the first frame is VP8L
    chroma: str = ""  # AVIF: 4:0:0, 4:2:0, 4:2:2 or 4:4:4 from av1C; "" when not known
    bit_depth: int = 8  # AVIF: bits per sample
    orientation: int = 1  # EXIF orientation, 1 to 8; 0 when the EXIF cannot be read
    file_size: int = 0  # bytes


def inspect(path: Path, *, max_pixels: int) -> Inspection:
    """Identify the file and check its structure, without decoding its pixels.

    Reads the header (format, size, mode) and then, format by format, what can be checked
    without holding the picture: every PNG chunk's CRC; a JPEG's markers up to its end
    (its entropy-coded data is the decoder's business); a WebP's RIFF chunks and
    bitstream headers; a GIF's blocks. What only a full decode can find is found by
    render(), once, in the worker under its memory budget. The memory this takes does not
    grow with the picture: a few MiB, and for AVIF about twice the file (Pillow reads it).

    Raises RejectedImage for anything that is not an accepted format, that is larger than
    max_pixels (a decompression bomb is refused before it is decoded), or that is damaged.
    """
    size = path.stat().st_size
    if size == 0:
        raise RejectedImage("the file is empty")
    try:
        header = replace(_read_header(path), file_size=size)
    except Image.DecompressionBombError:
        # Pillow's own guard, at twice MAX_IMAGE_PIXELS, refused to open it at all.
        raise RejectedImage(
            f"the image has more than the {max_pixels / 1_000_000:g} megapixels allowed"
        ) from None
    if header.format not in ACCEPTED_FORMATS:
        raise RejectedImage(
            f"{header.format or 'this'} files are not accepted, only {READABLE_FORMATS}"
        )
    width, height = header.width, header.height
    if width < 1 or height < 1:
        raise RejectedImage("the image has no pixels")
    if width * height > max_pixels:
        megapixels = width * height / 1_000_000
        raise RejectedImage(
            f"the image is {width}×{height} ({megapixels:.0f} megapixels), "
            f"more than the {max_pixels / 1_000_000:g} megapixels allowed"
        )
    try:
        return _check_pixels(path, header)
    except _Damaged as damage:
        raise RejectedImage(f"the image is damaged and cannot be decoded ({damage})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise RejectedImage(f"the image is damaged and cannot be decoded ({error})") from None


class _Damaged(Exception):
    """A structure check failed; the message says what, for a person."""


def _read_header(path: Path) -> Inspection:
    """Format, size and mode from the header. WebP is read here, not by Pillow, which
    loads the whole file (twice) to open it."""
    with path.open("rb") as file:
        start = file.read(16)
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        try:
            return _webp_structure(path, header_only=True)
        except _Damaged as damage:
            raise RejectedImage(f"the image cannot be read ({damage})") from None
    try:
        with warnings.catch_warnings():
            # Between the limit and twice it Pillow only warns; inspect() refuses those
            # files itself, with a sentence, so the warning would be noise in the log.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            fmt = image.format or ""
            width, height = image.size
            return Inspection(
                format=fmt,
                content_type=ACCEPTED_FORMATS.get(fmt, ""),
                width=width,
                height=height,
                mode=image.mode,
                alpha=has_alpha(image),
                # PNG (acTL), MPO (its index) and AVIF say how many frames they hold; GIF
                # is counted by _check_pixels as it walks the blocks.
                frames=getattr(image, "n_frames", 1) if fmt in ("PNG", "MPO", "AVIF") else 1,
                # JPEG's APP1 and AVIF's irot/imir are read at open (a PNG's eXIf may come
                # after its pixels: _check_pixels finds it).
                orientation=_orientation(image.getexif()) if fmt != "PNG" else 1,
            )
    except UnidentifiedImageError:
        # Pillow could not open it: damaged, if it starts as one of our formats does.
        if any(
            accept(start)
            for fmt, (_, accept) in Image.OPEN.items()
            if fmt in ACCEPTED_FORMATS and accept
        ):
            raise RejectedImage("the image is damaged and cannot be read") from None
        raise RejectedImage(f"it is not an image this site accepts ({READABLE_FORMATS})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise RejectedImage(f"the image cannot be read ({error})") from None


def _orientation(exif: Image.Exif | bytes) -> int:
    """The EXIF orientation (1 when there is none, 0 when the EXIF cannot be read)."""
    try:
        if isinstance(exif, bytes):
            data, exif = exif, Image.Exif()
            exif.load(data)
        value = exif.get(Base.Orientation, 1)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    except Exception:  # malformed EXIF: render() will make what it can of it
        return 0


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _check_pixels(path: Path, header: Inspection) -> Inspection:
    """Refuse truncated or corrupt files now, before anything is stored, as far as the
    format allows without decoding at full size; returns the header with what the walk
    learnt (frames, JPEG scans and sampling, WebP kind, AVIF chroma and depth).

    Raises _Damaged, or Pillow's OSError/SyntaxError/ValueError, for a damaged file.
    """
    fmt = header.format
    if fmt == "PNG":
        return replace(header, orientation=_png_structure(path))
    if fmt in ("JPEG", "MPO"):
        # The markers, to the end of the image: a truncated file is refused here. The
        # entropy-coded data is left to the decode in the worker (even at 1/8 scale it
        # costs 60 ms of CPU per 12 MP photo in the web tier, and every coefficient of
        # a progressive JPEG in memory).
        progressive, sampling = _jpeg_structure(path)
        return replace(header, progressive=progressive, sampling=sampling)
    if fmt == "WEBP":
        return replace(_webp_structure(path, header_only=False), file_size=header.file_size)
    if fmt == "GIF":
        return replace(header, frames=_gif_frames(path))
    if fmt == "AVIF":
        # Pillow parsed the container when it opened the file; the items must lie in
        # the file; the pixels (AV1) can only be checked by decoding them.
        return replace(header, **_avif_structure(path))
    return header


def _png_structure(path: Path) -> int:
    """Check every chunk's CRC up to IEND, reading a block at a time (nothing is inflated,
    and a chunk is never held whole). Returns the EXIF orientation (eXIf chunk)."""
    orientation = 1
    with path.open("rb") as file:
        file.seek(8)  # the signature, which Pillow checked
        while True:
            head = file.read(8)
            if len(head) < 8:
                raise _Damaged("the file ends before the picture does")
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if length >= 1 << 31:
                raise _Damaged("a chunk has an impossible length")
            crc = zlib.crc32(kind)
            left = length
            while left:
                block = file.read(min(left, _READ_BLOCK))
                if not block:
                    raise _Damaged("the file ends before the picture does")
                crc = zlib.crc32(block, crc)
                left -= len(block)
                if kind == b"eXIf" and len(block) == length:
                    orientation = _orientation(block)
                elif (
                    kind == b"iTXt" and block.startswith(b"XML:com.adobe.xmp") and orientation == 1
                ):
                    orientation = 0  # Pillow may find an orientation in the XMP
            stored = file.read(4)
            if len(stored) < 4:
                raise _Damaged("the file ends before the picture does")
            if int.from_bytes(stored, "big") != crc:
                name = kind.decode("latin-1")
                raise _Damaged(f"its {name} chunk is corrupt: the checksum does not match")
            if kind == b"IEND":
                return orientation


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
# The end of entropy-coded data: 0xFF then a marker other than a stuffed zero, a restart
# or a fill byte (0xFF: the marker follows the last of them).
_JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xff]")
_READ_BLOCK = 1 << 20


def _jpeg_structure(path: Path) -> tuple[bool, tuple[tuple[int, int], ...]]:
    """Walk the markers of the first picture to its end (EOI), skipping over the
    entropy-coded data. Returns whether every coefficient is held while decoding
    (progressive, or sequential in several scans) and each component's sampling."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if file.read(2) != b"\xff\xd8":
            raise _Damaged("it does not start as a JPEG does")
        frame: bytes | None = None
        progressive = False
        scans = 0
        marker = _jpeg_find_marker(file, _JPEG_NEXT_MARKER)
        while marker != 0xD9:  # end of image
            if marker is None:
                raise _Damaged("the file ends before the picture does")
            if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # stand-alone: no length
                marker = _jpeg_find_marker(file, _JPEG_NEXT_MARKER)
                continue
            length = int.from_bytes(file.read(2), "big")
            if length < 2 or file.tell() + length - 2 > size:
                raise _Damaged("the file ends before the picture does")
            if marker in _JPEG_FRAMES or marker == 0xDA:
                body = file.read(length - 2)
            else:
                file.seek(length - 2, os.SEEK_CUR)
            if marker in _JPEG_FRAMES:
                if frame is not None:
                    raise _Damaged("it has two frame headers")
                if len(body) < 6 or len(body) != 6 + 3 * body[5]:
                    raise _Damaged("its frame header is malformed")
                frame, progressive = body, marker in _JPEG_PROGRESSIVE
            if marker == 0xDA:
                if frame is None:
                    raise _Damaged("its pixels come before its frame header")
                if not body or len(body) != 4 + 2 * body[0]:
                    raise _Damaged("a scan header is malformed")
                scans += 1
                marker = _jpeg_find_marker(file, _JPEG_SCAN_END)
            else:
                marker = _jpeg_find_marker(file, _JPEG_NEXT_MARKER)
        if frame is None or scans == 0:
            raise _Damaged("it has no pixels")
    sampling = tuple((frame[7 + 3 * i] >> 4, frame[7 + 3 * i] & 15) for i in range(frame[5]))
    if any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in sampling):
        raise _Damaged("its frame header is malformed")
    return progressive or scans > 1, sampling


def _jpeg_find_marker(file: BinaryIO, pattern: re.Pattern[bytes]) -> int | None:
    """Read on to the next marker that pattern matches; the file is left just after it.
    None at the end of the file."""
    carry = b""
    while block := file.read(_READ_BLOCK):
        data = carry + block
        if found := pattern.search(data):
            file.seek(found.end() - len(data), os.SEEK_CUR)
            return data[found.end() - 1]
        carry = b"\xff" if data.endswith(b"\xff") else b""
    return None


def _gif_frames(path: Path) -> int:
    """Walk a GIF's blocks (extensions, images and their data sub-blocks) to its trailer
    without decoding. Returns the number of frames."""
    frames = 0
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size

        def need(count: int) -> bytes:
            data = file.read(count)
            if len(data) < count:
                raise _Damaged("the file ends before the picture does")
            return data

        def sub_blocks() -> None:
            while length := need(1)[0]:
                if file.seek(length, os.SEEK_CUR) > size:
                    raise _Damaged("the file ends before the picture does")

        screen = need(13)
        if screen[10] & 0x80:  # global colour table
            need(3 << ((screen[10] & 7) + 1))
        while block := file.read(1):
            if block == b";":  # trailer
                break
            if block == b"!":  # extension: label, then sub-blocks
                need(1)
                sub_blocks()
            elif block == b",":  # image: descriptor, colour table, LZW data
                descriptor = need(9)
                if descriptor[8] & 0x80:
                    need(3 << ((descriptor[8] & 7) + 1))
                if not 1 <= need(1)[0] <= 11:
                    raise _Damaged("a frame's data is malformed")
                sub_blocks()
                frames += 1
            elif frames:
                break  # bytes after the last frame: Pillow ignores them
            # and skips a stray byte between blocks, as this does
    if not frames:
        raise _Damaged("it has no pixels")
    return frames


def _webp_structure(path: Path, *, header_only: bool) -> Inspection:
    """Read a WebP's RIFF chunks, checking that every size fits in the file and that the
    bitstream headers agree with the canvas; header_only stops after the first chunk.

    Simple files hold one VP8 (lossy) or VP8L (lossless) chunk; extended ones start with
    VP8X (canvas, flags) and hold either one image (with an ALPH chunk for lossy alpha)
    or ANMF frames."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        head = file.read(12)
        end = 8 + int.from_bytes(head[4:8], "little")
        if end > size:
            raise _Damaged("the file is shorter than its header says")

        def chunks(stop: int) -> Iterator[tuple[bytes, int, int]]:
            while file.tell() < stop:
                kind = file.read(4)
                length = int.from_bytes(file.read(4), "little")
                start = file.tell()
                if len(kind) < 4 or start + length > stop:
                    raise _Damaged("the file is shorter than its chunks say")
                yield kind, length, start
                file.seek(start + length + (length & 1))

        first = next(chunks(end), None)
        if first is None or first[0] not in (b"VP8X", b"VP8 ", b"VP8L"):
            raise _Damaged("it holds no picture")
        kind, length, start = first
        if kind == b"VP8X":
            flags = file.read(10)
            if length < 10 or len(flags) < 10:
                raise _Damaged("its canvas header is malformed")
            width = int.from_bytes(flags[4:7], "little") + 1
            height = int.from_bytes(flags[7:10], "little") + 1
            alpha, animated = bool(flags[0] & 0x10), bool(flags[0] & 0x02)
            lossless = False
        else:
            width, height, alpha, lossless = _webp_bitstream(file, kind, length)
            animated = False
        header = Inspection(
            format="WEBP",
            content_type=ACCEPTED_FORMATS["WEBP"],
            width=width,
            height=height,
            mode="RGBA" if alpha else "RGB",
            alpha=alpha,
            lossless=lossless,
        )
        if header_only or kind != b"VP8X":
            return header

        frames = 0
        orientation = 1
        file.seek(start + length + (length & 1))
        for kind, length, start in chunks(end):
            if kind == b"EXIF" and length <= _READ_BLOCK:
                orientation = _orientation(file.read(length))
            elif animated and kind == b"ANMF":
                box = file.read(16)
                if length < 24 or len(box) < 16:
                    raise _Damaged("a frame header is malformed")
                left, top = (int.from_bytes(box[i : i + 3], "little") * 2 for i in (0, 3))
                frame_width = int.from_bytes(box[6:9], "little") + 1
                frame_height = int.from_bytes(box[9:12], "little") + 1
                if left + frame_width > width or top + frame_height > height:
                    raise _Damaged("a frame lies outside the canvas")
                image = _webp_image(file, chunks(start + length), frame_width, frame_height)
                if frames == 0:
                    lossless = image
                frames += 1
            elif not animated and kind in (b"VP8 ", b"VP8L") and not frames:
                found = _webp_bitstream(file, kind, length)
                if found[:2] != (width, height):
                    raise _Damaged("its picture's size differs from its canvas's")
                lossless, frames = found[3], 1
        if not frames:
            raise _Damaged("it holds no picture")
        return replace(header, frames=frames, lossless=lossless, orientation=orientation)


def _webp_image(
    file: BinaryIO, chunks: Iterator[tuple[bytes, int, int]], width: int, height: int
) -> bool:
    """The image of a frame: an optional ALPH chunk, then VP8 or VP8L of the frame's
    size. Returns whether it is lossless."""
    for kind, length, _ in chunks:
        if kind in (b"VP8 ", b"VP8L"):
            found = _webp_bitstream(file, kind, length)
            if found[:2] != (width, height):
                raise _Damaged("a picture's size differs from its frame's")
            return found[3]
        if kind != b"ALPH":
            break
    raise _Damaged("a frame holds no picture")


def _webp_bitstream(file: BinaryIO, kind: bytes, length: int) -> tuple[int, int, bool, bool]:
    """Size, alpha and losslessness from a VP8 or VP8L bitstream header."""
    data = file.read(min(length, 10))
    if kind == b"VP8L":
        if len(data) < 5 or data[0] != 0x2F:
            raise _Damaged("its lossless header is malformed")
        bits = int.from_bytes(data[1:5], "little")
        if bits >> 29:  # version
            raise _Damaged("its lossless header is malformed")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1), True
    if len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
        raise _Damaged("its lossy header is malformed")
    tag = int.from_bytes(data[0:3], "little")
    if tag & 1 or (tag >> 1) & 7 > 3 or (tag >> 5) + 10 > length:  # key frame, version
        raise _Damaged("its lossy header is malformed")
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    if not width or not height:
        raise _Damaged("its lossy header is malformed")
    return width, height, False, False


# AV1 boxes that hold other boxes, and how many bytes come before their children.
_AVIF_CONTAINERS = {
    b"meta": 4,
    b"iprp": 0,
    b"ipco": 0,
    b"moov": 0,
    b"trak": 0,
    b"mdia": 0,
    b"minf": 0,
    b"stbl": 0,
    b"stsd": 8,
    b"av01": 78,
}


def _avif_structure(path: Path) -> dict[str, Any]:
    """Walk an AVIF's boxes: the item locations (iloc) must lie inside the file, and the
    AV1 configurations (av1C) give chroma subsampling and bit depth, the largest found
    ({} when there is none: the estimate then assumes the worst)."""
    found: list[bytes] = []
    locations: list[bytes] = []

    def walk(data: bytes) -> None:
        pos = 0
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            if length < 8:
                return
            body = data[pos + 8 : pos + length]
            if kind == b"av1C" and len(body) >= 3:
                found.append(body)
            elif kind == b"iloc":
                locations.append(body)
            elif kind in _AVIF_CONTAINERS:
                walk(body[_AVIF_CONTAINERS[kind] :])
            pos += length

    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        while (head := file.read(8)) and len(head) == 8:
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if length == 1:  # a 64-bit size (mdat)
                length = int.from_bytes(file.read(8), "big") - 8
            if length < 8:  # 0: to the end of the file
                break
            if file.tell() + length - 8 > size:
                raise _Damaged("the file ends before the picture does")
            if kind in (b"meta", b"moov") and length <= _READ_BLOCK:
                walk(head + file.read(length - 8))
            else:
                file.seek(length - 8, os.SEEK_CUR)
    for body in locations:
        if _avif_extent_end(body) > size:
            raise _Damaged("the file ends before the picture does")
    if not found:
        return {}
    chroma = {(1, 1): "4:2:0", (1, 0): "4:2:2", (0, 0): "4:4:4"}
    names = [
        "4:0:0" if body[2] & 0x10 else chroma.get((body[2] >> 3 & 1, body[2] >> 2 & 1), "4:4:4")
        for body in found
    ]
    depths = [(12 if body[2] & 0x20 else 10) if body[2] & 0x40 else 8 for body in found]
    order = ["4:0:0", "4:2:0", "4:2:2", "4:4:4"]
    return {"chroma": max(names, key=order.index), "bit_depth": max(depths)}


def _avif_extent_end(iloc: bytes) -> int:
    """The furthest file offset an item location box (ISO 14496-12 8.11.3) points at;
    extents in the meta box's idat or in other items are not file offsets and are left
    out. Raises _Damaged when the box itself is cut short."""
    pos = 0

    def number(width: int) -> int:
        nonlocal pos
        if pos + width > len(iloc):
            raise _Damaged("its item locations are malformed")
        pos += width
        return int.from_bytes(iloc[pos - width : pos], "big")

    version = number(4) >> 24
    sizes = number(2)
    offset_size, length_size = sizes >> 12, sizes >> 8 & 15
    base_size, index_size = sizes >> 4 & 15, (sizes & 15) if version in (1, 2) else 0
    furthest = 0
    for _ in range(number(2 if version < 2 else 4)):
        number(2 if version < 2 else 4)  # item id
        method = number(2) & 15 if version in (1, 2) else 0
        number(2)  # data reference
        base = number(base_size)
        for _ in range(number(2)):
            number(index_size)
            offset, length = number(offset_size), number(length_size)
            if method == 0:
                furthest = max(furthest, base + offset + length)
    return furthest
