"""Image.camera builds the keyword-only Camera type (it once passed the values positionally)."""

from datetime import UTC, datetime
from types import SimpleNamespace

from imageshare.graphql import types

CAMERA_COLUMNS = ("taken_at", "camera_make", "camera_model", "lens", "exposure_time",
                  "aperture", "iso", "focal_length")  # fmt: skip


def _camera(**columns):
    row = SimpleNamespace(**(dict.fromkeys(CAMERA_COLUMNS) | columns))
    (field,) = [f for f in types.Image.__strawberry_definition__.fields if f.name == "camera"]
    return field.base_resolver.wrapped_func(types.Image(row=row))


def test_camera_fields_come_from_the_row():
    taken = datetime(2024, 5, 1, 12, tzinfo=UTC)
    camera = _camera(taken_at=taken, camera_make="Canon", exposure_time="1/250", aperture=2.8)
    assert camera == types.Camera(taken_at=taken, make="Canon", model=None, lens=None,
                                  exposure_time="1/250", aperture=2.8, iso=None,
                                  focal_length=None)  # fmt: skip


def test_no_exif_means_no_camera():
    assert _camera() is None
