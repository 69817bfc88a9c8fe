"""Deterministic test images, made on the spot (no binary fixtures in the repository)."""

from __future__ import annotations

import functools
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


# Decompression bombs: real, decodable images that are tiny on disk and huge in memory.
# Written by hand (no encoder holds the pixels), so each takes milliseconds to a second.


class _Bits:
    """Bits packed least significant first (WebP lossless, GIF's LZW)."""

    def __init__(self):
        self.data = bytearray()
        self.acc = 0
        self.count = 0

    def put(self, value: int, width: int) -> None:
        self.acc |= value << self.count
        self.count += width
        while self.count >= 8:
            self.data.append(self.acc & 0xFF)
            self.acc >>= 8
            self.count -= 8

    def done(self) -> bytes:
        if self.count:
            self.data.append(self.acc & 0xFF)
            self.acc = self.count = 0
        return bytes(self.data)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def _vp8l(width: int, height: int, *, alpha: bool, color=(40, 120, 200, 255)) -> bytes:
    """A WebP lossless bitstream of one colour: every prefix code has a single symbol, so
    the pixels take no bits at all."""
    bits = _Bits()
    bits.put(0x2F, 8)
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(int(alpha), 1)
    bits.put(0, 3)  # version
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    red, green, blue, opacity = color
    for symbol in (green, red, blue, opacity if alpha else 255, 0):  # green, R, B, A, distance
        bits.put(1, 1)  # simple code
        bits.put(0, 1)  # one symbol
        bits.put(1, 1)  # of 8 bits
        bits.put(symbol, 8)
    return bits.done() + bytes(4)


def _webp_file(chunks: bytes) -> bytes:
    body = b"WEBP" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


@functools.cache
def webp_bomb(width: int = 16383, height: int = 3662, *, alpha: bool = False) -> bytes:
    """A lossless WebP of one colour, 16383×3662 (60 MP) by default: 38 bytes, and
    16 bytes a pixel (915 MiB) for Pillow to decode."""
    return _webp_file(_riff_chunk(b"VP8L", _vp8l(width, height, alpha=alpha)))


@functools.cache
def animated_webp_bomb(width: int = 7745, height: int = 7745, *, frames: int = 2) -> bytes:
    """An animated lossless WebP, 7745×7745 by default, whose frames each cover the whole
    canvas: 144 bytes."""
    flags = 0x02 | 0x10  # animation, alpha

    def size24(value: int) -> bytes:
        return struct.pack("<I", value)[:3]

    vp8x = bytes([flags, 0, 0, 0]) + size24(width - 1) + size24(height - 1)
    anim = struct.pack("<IH", 0xFFFFFFFF, 0)
    chunks = _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", anim)
    for index in range(frames):
        color = (40 + 80 * index % 256, 120, 200, 255)
        frame = _riff_chunk(b"VP8L", _vp8l(width, height, alpha=True, color=color))
        header = size24(0) + size24(0) + size24(width - 1) + size24(height - 1)
        header += size24(100) + bytes([0x02])  # 100 ms, no blending, no disposal
        chunks += _riff_chunk(b"ANMF", header + frame)
    return _webp_file(chunks)


@functools.cache
def png_bomb(width: int = 7745, height: int = 7745, *, mode: str = "RGB") -> bytes:
    """A real PNG, 7745×7745 (60 MP) by default: a gradient on the first row, every other
    row 'same as above', deflated to about 190 KB for RGB (deflate's limit is ~1000:1).
    mode: L, RGB, P, LA, RGBA, or 16 bits a sample: RGB;16, RGBA;16, I;16. About a
    second to make, and cached."""
    color_type, depth, channels = {
        "L": (0, 8, 1),
        "RGB": (2, 8, 3),
        "P": (3, 8, 1),
        "LA": (4, 8, 2),
        "RGBA": (6, 8, 4),
        "RGB;16": (2, 16, 3),
        "RGBA;16": (6, 16, 4),
        "I;16": (0, 16, 1),
    }[mode]
    alpha = "A" in mode
    first = bytearray()
    for x in range(width):
        value = x * 255 // max(1, width - 1)
        samples = [value] * channels
        if alpha:
            samples[-1] = 128  # half transparent
        for sample in samples:
            first += bytes([sample, sample]) if depth == 16 else bytes([sample])
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"\0" + first)]
    same = b"\2" + bytes(len(first))  # filter "Up" with no change
    for _ in range(height - 1):
        parts.append(compressor.compress(same))
    parts.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    extra = b""
    if mode == "P":
        extra = chunk(b"PLTE", bytes(c for v in range(256) for c in (v, 255 - v, 128)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


class _JpegBits:
    """Bits packed most significant first, with JPEG's 0xFF byte stuffing."""

    def __init__(self):
        self.data = bytearray()
        self.acc = 0
        self.count = 0

    def put(self, value: int, width: int) -> None:
        self.acc = (self.acc << width) | value
        self.count += width
        while self.count >= 8:
            self.count -= 8
            byte = (self.acc >> self.count) & 0xFF
            self.data.append(byte)
            if byte == 0xFF:
                self.data.append(0)
        self.acc &= (1 << self.count) - 1

    def done(self) -> bytes:
        if self.count:
            self.put((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with ones
        return bytes(self.data)


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


@functools.cache
def progressive_jpeg_bomb(width: int = 9000, height: int = 6600) -> bytes:
    """A progressive YCbCr 4:2:0 JPEG of flat grey, 9000×6600 (59 MP) by default: a DC
    scan of one bit per block, then AC scans that are only end-of-band runs (175 KB).
    libjpeg holds every coefficient of it (170 MiB), whatever the scale it decodes at."""
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    out += _segment(0xDB, b"\0" + bytes([1] * 64))
    components = ((1, 2, 2), (2, 1, 1), (3, 1, 1))
    sof = struct.pack(">BHHB", 8, height, width, len(components))
    sof += b"".join(bytes([cid, h << 4 | v, 0]) for cid, h, v in components)
    out += _segment(0xC2, sof)
    # DC: one code of one bit, "0", for category 0 (no change).
    out += _segment(0xC4, bytes([0x00, 1] + [0] * 15 + [0x00]))
    # AC: EOB runs; EOB14 (the longest) has a one-bit code, EOB0..EOB13 five-bit ones.
    counts = [1, 0, 0, 0, 14] + [0] * 11
    symbols = [0xE0] + [r << 4 for r in range(14)]
    out += _segment(0xC4, bytes([0x10] + counts + symbols))
    codes = {0xE0: (0, 1)}
    code = 0b10000
    for r in range(14):
        codes[r << 4] = (code, 5)
        code += 1
    # DC first scan, all components interleaved: 4 + 1 + 1 blocks per 16×16 MCU.
    out += _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0]))
    mcus = -(-width // 16) * -(-height // 16)
    bits = _JpegBits()
    bits.data += bytes(mcus * 6 // 8)
    bits.put(0, mcus * 6 % 8)
    out += bits.done()
    # AC scans, one component each.
    for cid, h, v in components:
        out += _segment(0xDA, bytes([1, cid, 0x00, 1, 63, 0]))
        blocks = -(-width * h // 16) * -(-height * v // 16)
        bits = _JpegBits()
        while blocks:
            r = min(14, blocks.bit_length() - 1)
            run = min(blocks, (1 << (r + 1)) - 1)
            code, length = codes[r << 4]
            bits.put(code, length)
            bits.put(run - (1 << r), r)
            blocks -= run
        out += bits.done()
    out += b"\xff\xd9"
    return bytes(out)


def _lzw_constant(pixels: int, *, min_code_size: int = 2, index: int = 0) -> bytes:
    """GIF LZW for a run of one colour index: each code repeats the previous one plus one
    pixel, with a clear code whenever the table is full."""
    clear, end = 1 << min_code_size, (1 << min_code_size) + 1
    bits = _Bits()
    width = min_code_size + 1
    bits.put(clear, width)
    left = pixels
    while left:
        next_code, width = end + 1, min_code_size + 1
        covered = 0  # pixels of the last code sent since the clear
        while left and next_code < 4096:
            run = min(covered + 1, left)
            code = index if run == 1 else end + run - 1
            bits.put(code, width)
            if covered:  # the decoder adds an entry for every code after the first
                next_code += 1
                if next_code == 1 << width and width < 12:
                    width += 1
            covered = run
            left -= run
        if left:
            bits.put(clear, width)
    bits.put(end, width)
    data = bits.done()
    blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return bytes([min_code_size]) + blocks + b"\0"


@functools.cache
def gif_bomb(width: int = 7745, height: int = 7745, *, frames: int = 2) -> bytes:
    """An animated GIF, 7745×7745 (60 MP) by default, whose frames each cover the whole
    screen in one colour: about 40 KB a frame."""
    palette = bytes([200, 30, 30, 30, 30, 200, 0, 0, 0, 255, 255, 255])
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0) + palette)
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop for ever
    for index in range(frames):
        out += b"\x21\xf9\x04\x00" + struct.pack("<H", 50) + b"\x00\x00"  # 0.5 s
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        out += _lzw_constant(width * height, index=index % 4)
    out += b"\x3b"
    return bytes(out)
