"""Media URLs per visibility, and the /media route of local storage."""

import functools
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from imageshare.auth.viewer import Viewer
from imageshare.db import session_scope
from imageshare.images.kinds import Visibility
from imageshare.images.media import media_url, original_download_url, serve_media
from imageshare.images.models import Image
from imageshare.images.received import ReceivedFile
from imageshare.images.uploads import UploadDetails
from imageshare.settings import get_settings, load_settings
from imageshare.storage import build_storage, get_storage
from imageshare.users.models import User
from tests import samples
from tests.harness.processing import recording_tier


@pytest.fixture
def local_media(app_db, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    get_settings.cache_clear()
    get_storage.cache_clear()
    yield get_storage()
    get_storage.cache_clear()


def ready_image(visibility: str):
    with session_scope() as db:
        user = User(
            auth_subject=f"auth0|{uuid.uuid4()}", username=uuid.uuid4().hex[:10], display_name="O"
        )
        db.add(user)
        db.flush()
        owner = Viewer.of(user)
    tier = recording_tier(get_storage(), functools.partial(session_scope), max_pixels=10**8)
    upload = ReceivedFile(filename="p.jpg", limit=10**8)
    upload.write(samples.jpeg(400, 300))
    upload.finish()
    outcome = tier.uploads.submit(upload, UploadDetails(title="p", visibility=visibility), owner)
    tier.pipeline.process(outcome.image_id)
    with session_scope() as db:
        return db.get(Image, outcome.image_id)


@pytest.fixture
def client(local_media):
    return TestClient(Starlette(routes=[Route("/media/{key:path}", serve_media)]))


def test_public_renditions_are_plain_urls_served_with_caching(client):
    image = ready_image("public")
    url = media_url(image, f"renditions/{image.id}/thumb.webp")
    assert url == f"/media/renditions/{image.id}/thumb.webp"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=3600"
    # The original never goes out unsigned, whatever the visibility.
    assert client.get(f"/media/originals/{image.id}").status_code == 404


def test_private_images_need_a_valid_unexpired_signature(client):
    image = ready_image("private")
    key = f"renditions/{image.id}/medium.webp"
    assert client.get(f"/media/{key}").status_code == 404
    url = media_url(image, key)
    assert "signature=" in url
    assert client.get(url).status_code == 200
    assert client.get(url.replace("signature=", "signature=0")).status_code == 404
    assert client.get(url + "&expires=1").status_code == 404  # an expiry in the past


def test_unknown_or_malformed_keys_are_404(client):
    for path in (
        "/media/renditions/nope/thumb.webp",
        "/media/../secrets",
        "/media/originals/%2e%2e",
    ):
        assert client.get(path).status_code == 404


def test_cdn_base_url_is_used_for_public_media_and_never_for_private():
    settings = load_settings({"CDN_BASE_URL": "https://d111.cloudfront.net/"})
    storage = build_storage(load_settings({"MEDIA_ROOT": "/tmp/imageshare-media-test"}))
    public = type("I", (), {"visibility": Visibility.PUBLIC})()
    private = type("I", (), {"visibility": Visibility.PRIVATE})()
    assert media_url(public, "renditions/x/thumb.webp", settings=settings, storage=storage) == (
        "https://d111.cloudfront.net/renditions/x/thumb.webp"
    )
    assert "signature=" in media_url(
        private, "renditions/x/thumb.webp", settings=settings, storage=storage
    )


def test_s3_private_urls_are_presigned_for_ten_minutes(s3_credentials, s3_bucket):
    storage = build_storage(load_settings(s3_credentials.env(s3_bucket)))
    storage.put("renditions/x/thumb.webp", b"webp", content_type="image/webp")
    private = type("I", (), {"visibility": Visibility.PRIVATE})()
    url = media_url(private, "renditions/x/thumb.webp", settings=load_settings({}), storage=storage)
    assert "X-Amz-Expires=600" in url
    assert httpx.get(url).content == b"webp"


def test_the_owner_downloads_the_original_unchanged_under_the_title(client):
    image = ready_image("private")
    url = original_download_url(image)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == get_storage().read(image.original_key)  # byte for byte
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"p.jpg\"; filename*=UTF-8''p.jpg"
    )
    # The file name is part of what is signed: it cannot be swapped.
    assert client.get(url.replace("download=p.jpg", "download=evil.html")).status_code == 404
