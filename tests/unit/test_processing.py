"""Image checks and renditions with Pillow: what a person would notice in the result."""

import base64
import io

import pytest
from PIL import Image

from imageshare.images.kinds import RenditionName
from imageshare.images.processing import (
    PLACEHOLDER_MAX_BYTES,
    RejectedImage,
    inspect,
    render,
    rendition_sizes,
)
from tests import samples

MAX_PIXELS = 60_000_000


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def decoded(rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def test_a_large_photo_gets_three_webp_renditions_without_metadata(tmp_path):
    path = write(tmp_path, "photo.jpg", samples.jpeg(3000, 2000, exif=samples.camera_exif()))
    result = render(path)
    assert (result.width, result.height) == (3000, 2000)
    sizes = {r.name: (r.width, r.height) for r in result.renditions}
    assert sizes == {
        RenditionName.THUMB: (300, 200),
        RenditionName.MEDIUM: (1024, 683),
        RenditionName.LARGE: (2048, 1365),
    }
    for rendition in result.renditions:
        image = decoded(rendition)
        assert image.format == "WEBP" and image.size == (rendition.width, rendition.height)
        # No EXIF (camera serials, GPS), no XMP in what the public can download.
        assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info


def test_camera_metadata_and_gps_are_read(tmp_path):
    path = write(tmp_path, "photo.jpg", samples.jpeg(600, 400, exif=samples.camera_exif()))
    meta = render(path).metadata
    assert meta.taken_at.isoformat() == "2026-06-21T18:30:05+00:00"
    assert (meta.camera_make, meta.camera_model, meta.lens) == ("Fujifilm", "X-T5", "XF35mmF1.4 R")
    assert (meta.exposure_time, meta.aperture, meta.iso, meta.focal_length) == (
        "1/250",
        2.8,
        400,
        35.0,
    )
    assert meta.has_location
    assert meta.gps_latitude == pytest.approx(48.8582, abs=1e-4)
    assert meta.gps_longitude == pytest.approx(-2.2945, abs=1e-4)


def test_exif_orientation_is_applied_so_portraits_stand_upright(tmp_path):
    upright = Image.new("RGB", (400, 600), "white")
    upright.paste((220, 0, 0), (0, 0, 400, 60))  # a red band along the top
    # A phone stores the sensor's landscape pixels and says "rotate 90° clockwise" (6).
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = samples.encoded(stored, "JPEG", quality=95, exif=samples.camera_exif(orientation=6))
    result = render(write(tmp_path, "portrait.jpg", data))
    assert (result.width, result.height) == (400, 600)
    thumb = decoded(result.renditions[0]).convert("RGB")
    assert thumb.size == (200, 300)
    red, green, _ = thumb.getpixel((100, 10))
    assert red > 180 and green < 60, "the red band should be at the top"
    assert thumb.getpixel((100, 290))[1] > 200  # white at the bottom


def test_small_images_are_never_upscaled_and_get_fewer_renditions():
    assert rendition_sizes((800, 600)) == [
        (RenditionName.THUMB, (300, 225)),
        (RenditionName.MEDIUM, (800, 600)),
    ]
    assert rendition_sizes((120, 90)) == [(RenditionName.THUMB, (120, 90))]
    assert rendition_sizes((300, 100)) == [(RenditionName.THUMB, (300, 100))]
    assert [n for n, _ in rendition_sizes((1500, 1000))] == list(RenditionName)


def test_placeholder_is_a_tiny_data_uri(tmp_path):
    result = render(write(tmp_path, "p.jpg", samples.jpeg(1200, 800)))
    assert result.placeholder.startswith("data:image/webp;base64,")
    assert len(result.placeholder) <= PLACEHOLDER_MAX_BYTES
    tiny = Image.open(io.BytesIO(base64.b64decode(result.placeholder.split(",", 1)[1])))
    assert max(tiny.size) <= 16


def test_png_keeps_transparency_and_gif_uses_its_first_frame(tmp_path):
    png = Image.new("RGBA", (500, 500), (0, 0, 255, 0))
    png.paste((255, 0, 0, 255), (0, 0, 250, 500))
    result = render(write(tmp_path, "a.png", samples.encoded(png, "PNG")))
    thumb = decoded(result.renditions[0])
    assert thumb.mode == "RGBA" and thumb.getpixel((250, 150))[3] == 0

    frames = [Image.new("RGB", (200, 200), c) for c in ("red", "blue")]
    gif = samples.encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    first = decoded(render(write(tmp_path, "a.gif", gif)).renditions[0]).convert("RGB")
    assert first.getpixel((100, 100))[0] > 200


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "AVIF"])
def test_accepted_formats_are_recognised_by_content_not_name(tmp_path, fmt):
    data = samples.encoded(samples.photo(320, 240), fmt)
    info = inspect(write(tmp_path, "misnamed.txt", data), max_pixels=MAX_PIXELS)
    assert info.format == fmt and (info.width, info.height) == (320, 240)
    assert len(render(tmp_path / "misnamed.txt").renditions) == 2


REFUSALS = {
    "empty.jpg": (b"", "empty"),
    "notes.jpg": (b"just some text, renamed to .jpg\n" * 20, "not an image"),
    "drawing.jpg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "not an image",
    ),
    "paper.pdf": (b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "not an image"),
    "scan.bmp": (samples.encoded(Image.new("RGB", (10, 10)), "BMP"), "BMP files are not accepted"),
    "scan.tif": (
        samples.encoded(Image.new("RGB", (10, 10)), "TIFF"),
        "TIFF files are not accepted",
    ),
    "bomb.png": (samples.png_header_only(100_000, 100_000), "more than the 60 megapixels allowed"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refused_at_inspection_with_a_reason(tmp_path, name):
    data, reason = REFUSALS[name]
    with pytest.raises(RejectedImage, match=reason):
        inspect(write(tmp_path, name, data), max_pixels=MAX_PIXELS)


def test_truncated_or_corrupt_pixels_are_refused_before_anything_is_stored(tmp_path):
    # The headers are fine; the pixels are not. Inspection decodes enough to notice.
    whole = samples.jpeg(800, 600)
    png = samples.encoded(samples.photo(200, 200), "PNG")
    webp = samples.encoded(samples.photo(300, 200), "WEBP")
    for name, data in {
        "cut.jpg": whole[: len(whole) // 2],
        "bad.png": png[:100] + bytes(200) + png[300:],
        "cut.png": png[: len(png) // 2],
        "cut.webp": webp[: len(webp) // 2],
    }.items():
        with pytest.raises(RejectedImage, match="damaged|cannot be read"):
            inspect(write(tmp_path, name, data), max_pixels=MAX_PIXELS)


def test_render_refuses_what_cannot_be_decoded(tmp_path):
    whole = samples.jpeg(800, 600)
    with pytest.raises(RejectedImage, match="damaged"):
        render(write(tmp_path, "cut.jpg", whole[: len(whole) // 2]))
