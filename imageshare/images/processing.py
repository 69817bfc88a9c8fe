"""Image decoding and renditions, with Pillow (the upload-time checks are inspection.py).

Everything here is blocking CPU work on files: callers run it in worker threads
(Pillow releases the GIL while it decodes, resizes and encodes).

Speed comes from doing less: JPEGs are decoded at the smallest scale that still
covers the largest rendition (libjpeg's DCT scaling, `draft`), other huge sources are
reduced by a whole factor band by band, each rendition is resized from the next larger
one, and the largest encode (the slowest step) overlaps the smaller renditions.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageFilter, ImageOps
from PIL.ExifTags import GPS, IFD, Base

from imageshare.images.inspection import RejectedImage, has_alpha
from imageshare.images.kinds import RenditionName

# EXIF values (Any below) are whatever the camera wrote: the readers check them.
_T = TypeVar("_T")

# Longest edge of each rendition, smallest first. Never upscaled.
RENDITION_EDGES: dict[RenditionName, int] = {
    RenditionName.THUMB: 300,
    RenditionName.MEDIUM: 1024,
    RenditionName.LARGE: 2048,
}
WEBP_QUALITY = 80
PLACEHOLDER_EDGE = 16
PLACEHOLDER_MAX_BYTES = 1024


@dataclass(frozen=True)
class RenditionImage:
    name: RenditionName
    width: int
    height: int
    data: bytes  # WebP, no metadata


@dataclass(frozen=True)
class CameraMetadata:
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None
    aperture: float | None = None
    iso: int | None = None
    focal_length: float | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None

    @property
    def has_location(self) -> bool:
        return self.gps_latitude is not None and self.gps_longitude is not None


@dataclass(frozen=True)
class ProcessedImage:
    width: int  # upright, after EXIF orientation
    height: int
    renditions: list[RenditionImage]
    placeholder: str  # data: URI
    metadata: CameraMetadata = field(default_factory=CameraMetadata)


def render(path: Path, *, executor: Executor | None = None) -> ProcessedImage:
    """Decode the image once and produce its renditions, placeholder and metadata.

    Raises RejectedImage when the pixels cannot be decoded (truncated or corrupt).

    The time is decode, then the largest resize, then the largest encode (the slowest
    step, a third of all the work): everything else fits beside it. So the largest
    resize is split over two threads, its encode starts the moment it exists and runs
    alone on the pool, and meanwhile this thread makes each smaller rendition from the
    next larger one and encodes it. Two threads at most, both busy on two cores. The
    decode is let go as soon as the largest rendition exists.
    """
    metadata, (width, height), upright = _decode_file(path)
    sizes = rendition_sizes(upright.size)
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=1)
    try:
        name, size = sizes[-1]
        large = upright if upright.size == size else _resize(upright, size, pool)
        del upright  # let go of the decode as soon as the largest rendition exists
        largest = pool.submit(_rendition, name, large)
        renditions: list[RenditionImage] = []
        source = large
        for smaller, size in reversed(sizes[:-1]):
            source = _resize(source, size)
            renditions.insert(0, _rendition(smaller, source))
        preview = placeholder(source)
        renditions.append(_finish(largest, _rendition, name, large))
    finally:
        if own_pool:
            pool.shutdown()
    return ProcessedImage(
        width=width,
        height=height,
        renditions=renditions,
        placeholder=preview,
        metadata=metadata,
    )


def _decode_file(path: Path) -> tuple[CameraMetadata, tuple[int, int], Image.Image]:
    """The file's metadata, its upright size and its upright pixels (often fewer: decoded
    or reduced no larger than the renditions need). Nothing else keeps the file's image
    object, so the decode is freed once the caller drops the pixels."""
    try:
        with Image.open(path) as image:
            return read_metadata(image), _upright_size(image), _decode_upright(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise RejectedImage(f"the image is damaged and cannot be decoded ({error})") from None


def _rendition(name: RenditionName, frame: Image.Image) -> RenditionImage:
    return RenditionImage(name, frame.width, frame.height, _webp(frame, WEBP_QUALITY))


def rendition_sizes(size: tuple[int, int]) -> list[tuple[RenditionName, tuple[int, int]]]:
    """The distinct rendition sizes for an upright image, smallest first.

    Never upscaled, so a small source yields fewer renditions: a 800-pixel image has
    a 300-pixel thumb and an 800-pixel medium, and no large that would be the same.
    """
    width, height = size
    longest = max(width, height)
    result: list[tuple[RenditionName, tuple[int, int]]] = []
    for name, edge in RENDITION_EDGES.items():
        if result and longest <= max(result[-1][1]):
            break
        scale = min(1.0, edge / longest)
        result.append((name, (max(1, round(width * scale)), max(1, round(height * scale)))))
    return result


def _decode_upright(image: Image.Image) -> Image.Image:
    """Pixels in RGB(A), rotated as EXIF says, decoded no larger than needed.

    JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg. Other formats decode at full
    size; one at least twice the largest rendition is then reduced by a whole factor (a
    box average, as libjpeg's scaling is), converted band by band, so no full-size RGB
    copy is ever made. The decoded pixels are released as soon as the returned image
    exists: the caller's `image` is closed then (read its metadata first), and what a
    WebP or AVIF decoder keeps goes with the caller's file object.
    """
    if image.format in ("JPEG", "MPO"):
        # Ask libjpeg for a 1/2, 1/4 or 1/8 scale that still covers the largest rendition.
        width, height = image.size
        scale = min(1.0, RENDITION_EDGES[RenditionName.LARGE] / max(width, height))
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    image.seek(0)  # GIF, MPO, APNG, animated WebP and AVIF: the first frame
    try:
        image.load()
    except RuntimeError as error:  # Pillow's AVIF decoder, for damaged pixels
        raise OSError(str(error)) from None
    mode = "RGBA" if has_alpha(image) else "RGB"
    orientation = image.getexif().get(Base.Orientation, 1)
    factor = max(image.size) // RENDITION_EDGES[RenditionName.LARGE]
    if factor >= 2:
        pixels = _reduce_in_bands(image, factor, mode)
    elif image.mode == mode:
        pixels = image  # convert() copies even when nothing changes
    else:
        pixels = _to_mode(image, mode)
    upright = _orient(pixels, orientation)
    if upright is not image:
        image.close()  # the full decode; the caller still holds the file object
    elif image.format in ("WEBP", "AVIF"):
        # Their file objects keep the decoder's buffers as long as they live (libwebp's
        # canvases, libavif's planes: 8 to 12 bytes a pixel): hand back the pixels alone.
        upright = image._new(image.im)
    return upright


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The image's own size, as a person sees it: EXIF orientations 5 to 8 turn it."""
    width, height = image.size
    turned = image.getexif().get(Base.Orientation, 1) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image.transpose(method) if method else image


# Rows converted at a time when reducing: about this many bytes of RGB(A) per band.
_BAND_BYTES = 4 * 1024 * 1024


def _reduce_in_bands(image: Image.Image, factor: int, mode: str) -> Image.Image:
    """image reduced `factor` times (rounding up, as Image.reduce) in `mode`, converting
    a band of rows at a time: the full-size image is never copied or converted whole."""
    width, height = image.size
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, _BAND_BYTES // (4 * width * factor))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        reduced.paste(_to_mode(band, mode).reduce(factor), (0, top // factor))
    return reduced


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    if image.mode == mode:
        return image
    if image.mode.startswith("I"):  # 16-bit grey (PNG): scale to 8 bits, not clip
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert(mode)


# Outputs narrower than this are resized on one thread: halves would gain nothing.
_SPLIT_MIN_WIDTH = 512


def _resize(image: Image.Image, size: tuple[int, int], pool: Executor | None = None) -> Image.Image:
    """Lanczos, after a box reduction by a whole factor when the image is three times the
    size or more (reducing_gap=3.0: indistinguishable from Lanczos alone, and cheaper).

    With a pool, the left and right halves are resized at once, one here and one on the
    pool, then joined: the same Lanczos over the same source pixels, so the same result
    (bar a rounding), in about half the time on two cores and with no more memory than
    one pass (each half's intermediate is half the size).
    """
    width, height = size
    if pool is None or width < _SPLIT_MIN_WIDTH or image.mode in ("1", "P"):
        return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode in ("RGBA", "LA"):  # premultiplied once, here, rather than in each half
        return _resize(image.convert(image.mode[:-1] + "a"), size, pool).convert(image.mode)
    box_width: float  # a fraction of a pixel once reduced, as Image.resize does
    box_height: float
    box_width, box_height = image.size
    # As Image.resize does with reducing_gap, for the whole image rather than per half.
    factor = (int(box_width / width / 3.0) or 1, int(box_height / height / 3.0) or 1)
    if factor != (1, 1):
        image = image.reduce(factor)
        box_width, box_height = box_width / factor[0], box_height / factor[1]
    scale = box_width / width

    def columns(left: int, right: int) -> Image.Image:
        box = (left * scale, 0.0, right * scale, box_height)
        return image.resize((right - left, height), Image.Resampling.LANCZOS, box=box)

    middle = width // 2
    pending = pool.submit(columns, middle, width)
    left = columns(0, middle)
    right = _finish(pending, columns, middle, width)
    # Joined once both intermediates are gone: two halves and the whole take no more
    # than one pass's intermediate and result.
    joined = Image.new(image.mode, size, None)  # not cleared: the halves cover it
    joined.paste(left, (0, 0))
    joined.paste(right, (middle, 0))
    return joined


def _finish(future: Future[_T], work: Callable[..., _T], *args: object) -> _T:
    """The future's result, or the work done here if the pool has not started it yet
    (busy with other jobs, or this very call running on its only thread)."""
    return work(*args) if future.cancel() else future.result()


def _webp(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif/icc/xmp arguments: renditions carry no metadata (no GPS, no serials).
    image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


def placeholder(image: Image.Image) -> str:
    """A tiny blurred preview as a data URI (well under 1 KB), shown until the thumb loads."""
    tiny = ImageOps.contain(image, (PLACEHOLDER_EDGE, PLACEHOLDER_EDGE), Image.Resampling.BOX)
    tiny = tiny.filter(ImageFilter.GaussianBlur(0.6))
    for quality in (40, 20, 5):
        data = _webp(tiny, quality)
        uri = "data:image/webp;base64," + base64.b64encode(data).decode()
        if len(uri) <= PLACEHOLDER_MAX_BYTES:
            return uri
    return ""


def read_metadata(image: Image.Image) -> CameraMetadata:
    """Camera metadata from EXIF, tolerant of the odd values cameras write."""
    exif = image.getexif()
    if not exif:
        return CameraMetadata()
    details = exif.get_ifd(IFD.Exif)
    gps = exif.get_ifd(IFD.GPSInfo)
    latitude = _coordinate(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef), "S")
    longitude = _coordinate(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef), "W")
    return CameraMetadata(
        taken_at=_timestamp(details.get(Base.DateTimeOriginal) or exif.get(Base.DateTime)),
        camera_make=_text(exif.get(Base.Make), 100),
        camera_model=_text(exif.get(Base.Model), 100),
        lens=_text(details.get(Base.LensModel), 200),
        exposure_time=_exposure(details.get(Base.ExposureTime)),
        aperture=_number(details.get(Base.FNumber)),
        iso=_integer(details.get(Base.ISOSpeedRatings)),
        focal_length=_number(details.get(Base.FocalLength)),
        gps_latitude=latitude if longitude is not None else None,
        gps_longitude=longitude if latitude is not None else None,
    )


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:limit] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 4) if number == number and number >= 0 else None  # NaN, negatives


def _integer(value: Any) -> int | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    number = _number(value)
    return int(number) if number is not None else None


def _exposure(value: Any) -> str | None:
    seconds = _number(value)
    if not seconds:
        return None
    if seconds >= 1:
        return f"{seconds:g}"
    fraction = Fraction(seconds).limit_denominator(100_000)
    return f"1/{round(1 / seconds)}" if fraction.numerator != 1 else f"1/{fraction.denominator}"


def _timestamp(value: Any) -> datetime | None:
    text = _text(value, 32)
    if not text:
        return None
    try:
        # EXIF has no time zone; we record the wall-clock time as if it were UTC.
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _coordinate(parts: Any, reference: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(p) for p in parts)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(reference, bytes):
        reference = reference.decode("ascii", "ignore")
    if str(reference or "").strip().upper() == negative:
        value = -value
    return round(value, 6) if -180 <= value <= 180 else None
