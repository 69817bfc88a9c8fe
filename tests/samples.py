"""Deterministic test images, made on the spot (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from PIL.TiffImagePlugin import IFDRational


def photo(width: int, height: int) -> Image.Image:
    """A photo-like RGB picture: smooth areas, edges and fine detail, the same every time."""
    detail = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 0.8, 1.2), 60)
    across = Image.linear_gradient("L").rotate(90).resize((width, height))
    around = Image.radial_gradient("L").resize((width, height))
    return Image.merge("RGB", (detail, across, around))


def jpeg(width: int, height: int, *, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    photo(width, height).save(out, "JPEG", quality=quality, exif=exif or Image.Exif())
    return out.getvalue()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def camera_exif(*, orientation: int = 1, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: orientation, camera, exposure and a GPS position."""
    exif = Image.Exif()
    exif[Base.Orientation] = orientation
    exif[Base.Make] = "Fujifilm"
    exif[Base.Model] = "X-T5"
    details = exif.get_ifd(IFD.Exif)
    details[Base.DateTimeOriginal] = "2026:06:21 18:30:05"
    details[Base.ExposureTime] = IFDRational(1, 250)
    details[Base.FNumber] = IFDRational(28, 10)
    details[Base.ISOSpeedRatings] = 400
    details[Base.FocalLength] = IFDRational(35, 1)
    details[Base.LensModel] = "XF35mmF1.4 R"
    if gps:
        position = exif.get_ifd(IFD.GPSInfo)
        position[GPS.GPSLatitudeRef] = "N"
        position[GPS.GPSLatitude] = (IFDRational(48), IFDRational(51), IFDRational(2964, 100))
        position[GPS.GPSLongitudeRef] = "W"
        position[GPS.GPSLongitude] = (IFDRational(2), IFDRational(17), IFDRational(4008, 100))
    return exif


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header claiming a size, and no pixels: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
