"""What only the local folder does: atomic files and HMAC-signed /media URLs."""

import time

from imageshare.storage import LocalStorage


def make(tmp_path, secret="k" * 40):
    return LocalStorage(tmp_path / "media", secret_key=secret)


def test_files_land_under_the_root_with_no_temporary_leftovers(tmp_path):
    storage = make(tmp_path)
    storage.put("renditions/i/thumb.webp", b"data", content_type="image/webp")
    files = [
        p.relative_to(tmp_path / "media").as_posix()
        for p in (tmp_path / "media").rglob("*")
        if p.is_file()
    ]
    assert files == ["renditions/i/thumb.webp"]


def test_plain_url_is_the_media_route(tmp_path):
    assert make(tmp_path).url("renditions/i/thumb.webp") == "/media/renditions/i/thumb.webp"


def test_signed_url_verifies_until_it_expires(tmp_path):
    storage = make(tmp_path)
    url = storage.url("originals/i", expires_in=60)
    path, query = url.split("?")
    params = dict(part.split("=") for part in query.split("&"))
    assert path == "/media/originals/i"
    assert storage.verify_signature("originals/i", params["expires"], params["signature"])
    # Another key, another expiry, another secret, or garbage: refused.
    assert not storage.verify_signature("originals/j", params["expires"], params["signature"])
    assert not storage.verify_signature(
        "originals/i", str(int(params["expires"]) + 1), params["signature"]
    )
    assert not make(tmp_path, secret="x" * 40).verify_signature(
        "originals/i", params["expires"], params["signature"]
    )
    assert not storage.verify_signature("originals/i", "soon", params["signature"])

    past = storage.url("originals/i", expires_in=-1)
    params = dict(part.split("=") for part in past.split("?")[1].split("&"))
    assert int(params["expires"]) < time.time()
    assert not storage.verify_signature("originals/i", params["expires"], params["signature"])
