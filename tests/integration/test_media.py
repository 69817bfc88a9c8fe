"""Media URLs per visibility, and the /media route of local storage."""

import uuid
from urllib.parse import unquote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from imageshare.auth.viewer import Viewer
from imageshare.images.cdn import build_signer
from imageshare.images.kinds import Visibility
from imageshare.images.media import media_url, serve_media
from imageshare.images.models import Image
from imageshare.images.received import ReceivedFile
from imageshare.images.uploads import UploadDetails
from imageshare.settings import load_settings
from imageshare.storage import attachment, build_storage
from imageshare.users.models import User
from imageshare.wiring import Wiring
from tests import samples
from tests.harness.database import wired
from tests.harness.processing import recording_tier


@pytest.fixture
def local_media(app_db, tmp_path, monkeypatch):
    """The app's wiring on app_db's database, with media in a folder of this test's."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    with wired(load_settings()) as app:
        yield app


def ready_image(app: Wiring, visibility: str, title: str = "p"):
    with app.session() as db:
        user = User(
            auth_subject=f"auth0|{uuid.uuid4()}", username=uuid.uuid4().hex[:10], display_name="O"
        )
        db.add(user)
        db.flush()
        owner = Viewer.of(user)
    tier = recording_tier(app.storage, app.session, max_pixels=10**8)
    upload = ReceivedFile(filename="p.jpg", limit=10**8)
    upload.write(samples.jpeg(400, 300))
    upload.finish()
    outcome = tier.uploads.submit(upload, UploadDetails(title=title, visibility=visibility), owner)
    tier.pipeline.process(outcome.image_id)
    with app.session() as db:
        return db.get(Image, outcome.image_id)


@pytest.fixture
def client(local_media):
    async def media(request):
        return await serve_media(request, storage=local_media.storage, sessions=local_media.session)

    return TestClient(Starlette(routes=[Route("/media/{key:path}", media)]))


def test_public_renditions_are_plain_urls_served_with_caching(client, local_media):
    image = ready_image(local_media, "public")
    url = local_media.media.url(image, f"renditions/{image.id}/thumb.webp")
    assert url == f"/media/renditions/{image.id}/thumb.webp"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=3600"
    # The original never goes out unsigned, whatever the visibility.
    assert client.get(f"/media/originals/{image.id}").status_code == 404


def test_private_images_need_a_valid_unexpired_signature(client, local_media):
    image = ready_image(local_media, "private")
    key = f"renditions/{image.id}/medium.webp"
    assert client.get(f"/media/{key}").status_code == 404
    url = local_media.media.url(image, key)
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
    signer = build_signer(settings)
    assert signer is None  # a CDN without signing keys
    plain = dict(settings=settings, storage=storage, signer=signer)
    assert media_url(public, "renditions/x/thumb.webp", **plain) == (
        "https://d111.cloudfront.net/renditions/x/thumb.webp"
    )
    assert "signature=" in media_url(private, "renditions/x/thumb.webp", **plain)


def test_s3_private_urls_are_presigned_for_ten_minutes(s3_credentials, s3_bucket):
    storage = build_storage(load_settings(s3_credentials.env(s3_bucket)))
    storage.put("renditions/x/thumb.webp", b"webp", content_type="image/webp")
    private = type("I", (), {"visibility": Visibility.PRIVATE})()
    url = media_url(
        private, "renditions/x/thumb.webp", settings=load_settings({}), storage=storage, signer=None
    )
    assert "X-Amz-Expires=600" in url
    assert httpx.get(url).content == b"webp"


def test_the_owner_downloads_the_original_unchanged_under_the_title(client, local_media):
    image = ready_image(local_media, "private")
    url = local_media.media.original(image)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == local_media.storage.read(image.original_key)  # byte for byte
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"p.jpg\"; filename*=UTF-8''p.jpg"
    )
    # The file name is part of what is signed: it cannot be swapped.
    assert client.get(url.replace("download=p.jpg", "download=evil.html")).status_code == 404


# What broke the quoted file name before: a trailing backslash, quotes, non-ASCII (and
# newlines, in the S3 case below; tests/unit/test_download_names.py has the rest).
AWKWARD_TITLE = 'Trip "2026" — Café ☕\\'


def test_an_awkward_title_downloads_under_a_well_formed_name_from_the_media_route(
    client, local_media
):
    image = ready_image(local_media, "private", title=AWKWARD_TITLE)
    response = client.get(local_media.media.original(image))
    assert response.status_code == 200
    header = response.headers["content-disposition"]
    assert header == attachment(AWKWARD_TITLE + ".jpg")
    assert header.startswith("attachment; filename=\"Trip '2026' _ Cafe __.jpg\"; ")
    assert unquote(header.split("filename*=UTF-8''")[1]) == AWKWARD_TITLE + ".jpg"


@pytest.mark.parametrize("name", [AWKWARD_TITLE + ".jpg", "line\nbreak\\", "東京.png"])
def test_s3_presigned_downloads_carry_a_well_formed_name(s3_credentials, s3_bucket, name):
    storage = build_storage(load_settings(s3_credentials.env(s3_bucket)))
    storage.put("originals/x", b"jpeg", content_type="image/jpeg")
    response = httpx.get(storage.url("originals/x", expires_in=60, download_as=name))
    assert response.status_code == 200 and response.content == b"jpeg"
    assert response.headers["content-disposition"] == attachment(name)
