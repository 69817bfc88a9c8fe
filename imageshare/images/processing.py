"""Image decoding, checks and renditions, with Pillow.

Everything here is blocking CPU work on files: callers run it in worker threads
(Pillow releases the GIL while it decodes, resizes and encodes).

Speed comes from doing less: JPEGs are decoded at the smallest scale that still
covers the largest rendition (libjpeg's DCT scaling, `draft`), each rendition is
resized from the next larger one rather than from the original, and the WebP
encodes run in parallel.
"""

from __future__ import annotations

import base64
import io
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from PIL.ExifTags import GPS, IFD, Base

from imageshare.images.kinds import RenditionName

# Longest edge of each rendition, smallest first. Never upscaled.
RENDITION_EDGES: dict[RenditionName, int] = {
    RenditionName.THUMB: 300,
    RenditionName.MEDIUM: 1024,
    RenditionName.LARGE: 2048,
}
WEBP_QUALITY = 80
PLACEHOLDER_EDGE = 16
PLACEHOLDER_MAX_BYTES = 1024

# What Pillow says a file is -> the type we record. Decided by decoding, never by name.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG from cameras and phones; the first picture
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
}
_READABLE = "JPEG, PNG, WebP, GIF or AVIF"

# We check the pixel count ourselves, from the header, before anything is decoded.
Image.MAX_IMAGE_PIXELS = None


class RejectedImage(ValueError):
    """The file is not an image we accept; the message says why, for a person."""


@dataclass(frozen=True)
class Inspection:
    format: str
    content_type: str
    width: int  # as stored, before EXIF orientation
    height: int


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


def inspect(path: Path, *, max_pixels: int) -> Inspection:
    """Identify the file from its header, without decoding the pixels.

    Raises RejectedImage for anything that is not an accepted format or that is
    larger than max_pixels (a decompression bomb is refused before it is decoded).
    """
    if path.stat().st_size == 0:
        raise RejectedImage("the file is empty")
    try:
        with Image.open(path) as image:
            fmt = image.format or ""
            width, height = image.size
    except UnidentifiedImageError:
        raise RejectedImage(f"it is not an image this site accepts ({_READABLE})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise RejectedImage(f"the image cannot be read ({error})") from None
    if fmt not in ACCEPTED_FORMATS:
        raise RejectedImage(f"{fmt or 'this'} files are not accepted, only {_READABLE}")
    if width < 1 or height < 1:
        raise RejectedImage("the image has no pixels")
    if width * height > max_pixels:
        megapixels = width * height / 1_000_000
        raise RejectedImage(
            f"the image is {width}×{height} ({megapixels:.0f} megapixels), "
            f"more than the {max_pixels / 1_000_000:g} megapixels allowed"
        )
    _check_pixels(path, fmt)
    return Inspection(format=fmt, content_type=ACCEPTED_FORMATS[fmt], width=width, height=height)


def _check_pixels(path: Path, fmt: str) -> None:
    """Refuse truncated or corrupt files now, before anything is stored, as cheaply as
    the format allows: PNG checks every chunk's CRC without inflating; JPEG decodes at
    1/8 scale; the others decode their first frame."""
    try:
        with Image.open(path) as image:
            if fmt == "PNG":
                image.verify()
                return
            if fmt in ("JPEG", "MPO"):
                image.draft("RGB", (1, 1))
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise RejectedImage(f"the image is damaged and cannot be decoded ({error})") from None


def render(path: Path, *, executor: Executor | None = None) -> ProcessedImage:
    """Decode the image once and produce its renditions, placeholder and metadata.

    Raises RejectedImage when the pixels cannot be decoded (truncated or corrupt).
    """
    try:
        with Image.open(path) as image:
            metadata = read_metadata(image)
            upright = _decode_upright(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise RejectedImage(f"the image is damaged and cannot be decoded ({error})") from None

    width, height = upright.size
    sizes = rendition_sizes(upright.size)

    def encode(name: RenditionName, frame: Image.Image) -> RenditionImage:
        return RenditionImage(name, frame.width, frame.height, _webp(frame, WEBP_QUALITY))

    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=len(sizes))
    try:
        # Largest first: its encode (the slowest step) starts while the smaller ones are
        # still being resized, each from the one before. The full decode is let go as
        # soon as the largest rendition exists.
        pending = {}
        source, upright = upright, None
        for name, size in reversed(sizes):
            frame = source if source.size == size else _resize(source, size)
            pending[name] = pool.submit(encode, name, frame)
            source = frame
        renditions = [pending[name].result() for name, _ in sizes]
    finally:
        if own_pool:
            pool.shutdown()
    return ProcessedImage(
        width=width,
        height=height,
        renditions=renditions,
        placeholder=placeholder(source),
        metadata=metadata,
    )


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
    """Pixels in RGB(A), rotated as EXIF says, decoded no larger than needed."""
    if image.format in ("JPEG", "MPO"):
        # Ask libjpeg for a 1/2, 1/4 or 1/8 scale that still covers the largest rendition.
        width, height = image.size
        scale = min(1.0, RENDITION_EDGES[RenditionName.LARGE] / max(width, height))
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    image.seek(0)  # GIF, MPO: the first frame
    image.load()
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    # convert() copies even when nothing changes: skip it for the common RGB case.
    pixels = image if image.mode == mode else image.convert(mode)
    orientation = image.getexif().get(Base.Orientation, 1)
    return _orient(pixels, orientation)


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


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # reducing_gap: a fast box reduction first, then Lanczos for the last step.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


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


def _text(value, limit: int) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:limit] or None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 4) if number == number and number >= 0 else None  # NaN, negatives


def _integer(value) -> int | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    number = _number(value)
    return int(number) if number is not None else None


def _exposure(value) -> str | None:
    seconds = _number(value)
    if not seconds:
        return None
    if seconds >= 1:
        return f"{seconds:g}"
    fraction = Fraction(seconds).limit_denominator(100_000)
    return f"1/{round(1 / seconds)}" if fraction.numerator != 1 else f"1/{fraction.denominator}"


def _timestamp(value) -> datetime | None:
    text = _text(value, 32)
    if not text:
        return None
    try:
        # EXIF has no time zone; we record the wall-clock time as if it were UTC.
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _coordinate(parts, reference, negative: str) -> float | None:
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
