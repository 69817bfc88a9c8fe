"""The storage interface behaves the same on a local folder and on a real S3 server."""

import io
import time

import boto3
import httpx
import pytest

from imageshare.settings import load_settings
from imageshare.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    StorageError,
    build_storage,
)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media", secret_key="k" * 40)
    s3_server = request.getfixturevalue("s3_credentials")
    bucket = request.getfixturevalue("s3_bucket")
    return build_storage(load_settings(s3_server.env(bucket)))


def test_put_then_read_exists_and_list(storage):
    storage.put("originals/abc", b"\x89PNG original", content_type="image/png")
    storage.put("renditions/abc/thumb.webp", io.BytesIO(b"RIFF thumb"), content_type="image/webp")

    assert storage.read("originals/abc") == b"\x89PNG original"
    with storage.open("renditions/abc/thumb.webp") as stream:
        assert stream.read() == b"RIFF thumb"
    assert storage.exists("originals/abc")
    assert not storage.exists("originals/other")
    assert sorted(storage.keys()) == ["originals/abc", "renditions/abc/thumb.webp"]
    assert list(storage.keys("renditions/")) == ["renditions/abc/thumb.webp"]


def test_put_replaces_and_delete_removes(storage):
    storage.put("originals/x", b"first", content_type="application/octet-stream")
    storage.put("originals/x", b"second", content_type="application/octet-stream")
    assert storage.read("originals/x") == b"second"

    storage.delete("originals/x")
    assert not storage.exists("originals/x")
    assert list(storage.keys()) == []
    storage.delete("originals/x")  # deleting what is gone is not an error


def test_reading_a_missing_object_raises_object_not_found(storage):
    with pytest.raises(ObjectNotFound):
        storage.open("originals/missing")


def test_large_streams_arrive_whole(storage):
    payload = bytes(range(256)) * (40 * 1024)  # 10 MiB: S3 uses a multipart upload
    storage.put("originals/big", io.BytesIO(payload), content_type="image/jpeg")
    assert storage.read("originals/big") == payload


@pytest.mark.parametrize("key", ["../escape", "/absolute", "a/../../b", "", "a//b", "with space"])
def test_keys_that_could_escape_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x", content_type="text/plain")
    assert list(storage.keys()) == []


def test_a_failing_stream_leaves_nothing_behind(storage):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.sent = False

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent:
                raise OSError("client went away")
            self.sent = True
            buffer[:4] = b"half"
            return 4

    with pytest.raises((OSError, StorageError)):
        storage.put("originals/broken", io.BufferedReader(Broken()), content_type="image/jpeg")
    assert not storage.exists("originals/broken")
    assert list(storage.keys()) == []


def test_check_passes_when_usable(storage):
    storage.check()


def test_s3_signed_urls_work_only_unaltered_and_unexpired(s3_credentials, s3_bucket):
    s3_server = s3_credentials
    storage = build_storage(load_settings(s3_server.env(s3_bucket)))
    assert isinstance(storage, S3Storage)
    storage.put("renditions/r/large.webp", b"webp bytes", content_type="image/webp")

    url = storage.url("renditions/r/large.webp", expires_in=60)
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"webp bytes"
    assert response.headers["content-type"] == "image/webp"
    # The bucket is private: without the signature, or with it altered, no bytes.
    assert httpx.get(url.split("?")[0]).status_code == 403
    assert httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403

    short = storage.url("renditions/r/large.webp", expires_in=1)
    time.sleep(2.1)
    assert httpx.get(short).status_code == 403


def test_s3_check_names_a_missing_bucket(s3_credentials):
    s3_server = s3_credentials
    storage = build_storage(load_settings(s3_server.env("no-such-bucket")))
    with pytest.raises(StorageError, match="'no-such-bucket' does not exist"):
        storage.check()


def test_s3_wrong_credentials_are_refused(s3_credentials, s3_bucket):
    s3_server = s3_credentials
    impostor = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key="wrong-secret",
        region_name=s3_server.region,
    )
    storage = S3Storage(bucket=s3_bucket, region=None, endpoint_url=None, client=impostor)
    with pytest.raises(StorageError):
        storage.put("originals/x", b"x", content_type="image/png")
    assert list(build_storage(load_settings(s3_server.env(s3_bucket))).keys()) == []
