"""Upload checks (inspection.py) and renditions (processing.py): what a person would notice."""

import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageChops

from imageshare.images.inspection import RejectedImage, inspect
from imageshare.images.kinds import RenditionName
from imageshare.images.processing import PLACEHOLDER_MAX_BYTES, _resize, render, rendition_sizes
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
    # The headers are fine; the rest is not. Inspection walks the structure to notice:
    # PNG chunk CRCs, JPEG markers to the end (and a 1/8-scale decode of a sequential
    # one), WebP RIFF sizes, GIF blocks, AVIF item locations.
    whole = samples.jpeg(800, 600)
    progressive = samples.encoded(samples.photo(800, 600), "JPEG", progressive=True)
    png = samples.encoded(samples.photo(200, 200), "PNG")
    webp = samples.encoded(samples.photo(300, 200), "WEBP")
    frames = [samples.photo(300, 200), samples.photo(300, 200).rotate(180)]
    gif = samples.encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    avif = samples.encoded(samples.photo(300, 200), "AVIF")
    for name, data in {
        "cut.jpg": whole[: len(whole) // 2],
        "cut-progressive.jpg": progressive[:-100],
        "bad.png": png[:100] + bytes(200) + png[300:],
        "cut.png": png[: len(png) // 2],
        "cut.webp": webp[: len(webp) // 2],
        "cut.gif": gif[: len(gif) * 3 // 4],
        "cut.avif": avif[:-10],
        "cut-bomb.webp": samples.webp_bomb()[:-8],
        "cut-bomb.jpg": samples.progressive_jpeg_bomb()[:-2],
    }.items():
        with pytest.raises(RejectedImage, match="damaged|cannot be read"):
            inspect(write(tmp_path, name, data), max_pixels=MAX_PIXELS)


def test_damage_only_a_decode_can_find_is_refused_by_render(tmp_path):
    # Inspection does not decode WebP, GIF or AVIF pixels (a bomb would cost a GiB):
    # damaged pixels in a sound structure are found by render, in the worker.
    lossless = samples.encoded(samples.photo(640, 480), "WEBP", lossless=True)
    gif = samples.encoded(samples.photo(640, 480), "GIF")
    avif = samples.encoded(samples.photo(640, 480), "AVIF")
    for name, data in {
        "noise.webp": lossless[:2000] + bytes(500) + lossless[2500:],
        "noise.gif": gif[:3000] + bytes(500) + gif[3500:],
        "noise.avif": avif[: len(avif) // 2] + bytes(200) + avif[len(avif) // 2 + 200 :],
    }.items():
        path = write(tmp_path, name, data)
        inspect(path, max_pixels=MAX_PIXELS)
        with pytest.raises(RejectedImage, match="damaged"):
            render(path)


def test_inspection_reads_what_the_decode_will_hold_from_the_header(tmp_path):
    frames = [samples.photo(300, 200), samples.photo(300, 200).rotate(180)]
    cases = {
        "bomb.webp": (samples.webp_bomb(), dict(lossless=True, mode="RGB", frames=1)),
        "bomb.jpg": (
            samples.progressive_jpeg_bomb(),
            dict(progressive=True, sampling=((2, 2), (1, 1), (1, 1))),
        ),
        "bomb.gif": (samples.gif_bomb(), dict(mode="P", frames=2)),
        "bomb.png": (samples.png_bomb(mode="P"), dict(mode="P", alpha=False)),
        "anim.webp": (
            samples.encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
            dict(frames=2, lossless=False, mode="RGB"),  # opaque: libwebp drops alpha
        ),
        "turned.jpg": (
            samples.jpeg(300, 200, exif=samples.camera_exif(orientation=6)),
            dict(progressive=False, orientation=6),
        ),
        "turned.webp": (
            samples.encoded(frames[0], "WEBP", exif=samples.camera_exif(orientation=8)),
            dict(orientation=8),
        ),
        "clear.png": (
            samples.encoded(Image.new("P", (40, 30)), "PNG", transparency=0),
            dict(mode="P", alpha=True),
        ),
        "photo.avif": (samples.encoded(frames[0], "AVIF"), dict(chroma="4:2:0", bit_depth=8)),
    }
    for name, (data, expected) in cases.items():
        info = inspect(write(tmp_path, name, data), max_pixels=MAX_PIXELS)
        assert info.file_size == len(data)
        assert {key: getattr(info, key) for key in expected} == expected, name


def test_huge_sources_are_reduced_a_band_at_a_time_with_their_colours(tmp_path):
    # 7745 pixels wide: reduced 3 times before the Lanczos resize, converted band by band.
    result = render(write(tmp_path, "bomb.png", samples.png_bomb(mode="P")))
    large = decoded(result.renditions[-1]).convert("RGB")
    assert large.size == (2048, 2048)
    # The palette maps grey level v to (v, 255 - v, 128); the gradient runs left to right.
    left, right = large.getpixel((10, 1000)), large.getpixel((2037, 1000))
    assert left[0] < 20 and left[1] > 235 and right[0] > 235 and right[1] < 20
    assert abs(left[2] - 128) < 8


def test_sixteen_bit_grey_keeps_its_grey_levels(tmp_path):
    # A 16-bit grey PNG (samples 0 to 65535, a gradient) is scaled to 8 bits, not clipped
    # to white as Pillow's convert() would.
    png = samples.png_bomb(400, 300, mode="I;16")
    thumb = decoded(render(write(tmp_path, "deep.png", png)).renditions[0]).convert("L")
    assert thumb.getpixel((5, 150)) < 20 and 110 < thumb.getpixel((150, 150)) < 145


def test_a_huge_image_is_recorded_at_its_own_size(tmp_path):
    # Decoded at half size (JPEG draft) or reduced (others), recorded as it is.
    big = render(write(tmp_path, "big.jpg", samples.jpeg(6000, 1500)))
    assert (big.width, big.height) == (6000, 1500)
    assert {r.name: (r.width, r.height) for r in big.renditions}[RenditionName.LARGE] == (2048, 512)
    bomb = render(write(tmp_path, "bomb.gif", samples.gif_bomb(5000, 3000)))
    assert (bomb.width, bomb.height) == (5000, 3000)
    # A phone's portrait: stored sideways, recorded upright.
    turned = samples.jpeg(6000, 4000, exif=samples.camera_exif(orientation=6))
    upright = render(write(tmp_path, "turned.jpg", turned))
    assert (upright.width, upright.height) == (4000, 6000)


def test_render_refuses_what_cannot_be_decoded(tmp_path):
    whole = samples.jpeg(800, 600)
    with pytest.raises(RejectedImage, match="damaged"):
        render(write(tmp_path, "cut.jpg", whole[: len(whole) // 2]))


def test_the_largest_resize_made_in_two_halves_is_the_same_picture():
    # render() resizes the largest rendition's left and right halves on two threads.
    photo = samples.photo(3000, 2000)
    translucent = photo.copy()
    translucent.putalpha(Image.linear_gradient("L").resize(photo.size))
    with ThreadPoolExecutor(max_workers=1) as pool:
        for image in (photo, translucent):
            halves = _resize(image, (2048, 1365), pool)
            assert (halves.mode, halves.size) == (image.mode, (2048, 1365))
            assert ImageChops.difference(halves, _resize(image, (2048, 1365))).getbbox() is None


def test_render_does_the_work_itself_when_the_pool_it_is_given_is_busy(tmp_path):
    path = write(tmp_path, "photo.jpg", samples.jpeg(3000, 2000))
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        blocker = pool.submit(release.wait, 60)  # its only thread is taken
        try:
            result = render(path, executor=pool)
            assert not blocker.done(), "render waited for the pool instead"
        finally:
            release.set()
    assert [(r.width, r.height) for r in result.renditions] == [
        (300, 200),
        (1024, 683),
        (2048, 1365),
    ]
