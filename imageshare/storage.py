"""Where image bytes live: a small interface with a local-folder and an S3 implementation.

Both are synchronous (boto3 is); callers on the event loop run them in a worker
thread. `build_storage` is the one place that picks an implementation from settings.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import tempfile
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from imageshare.settings import Settings

# Keys are ours (originals/{uuid}, renditions/{uuid}/{name}.webp), never user input;
# the pattern still refuses anything that could climb out of a folder.
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")

MEDIA_URL_PREFIX = "/media/"


class StorageError(Exception):
    """The storage backend failed; the message is safe to log, not to show."""


class ObjectNotFound(StorageError):
    def __init__(self, key: str):
        super().__init__(f"no object at {key!r}")
        self.key = key


def check_key(key: str) -> str:
    if not _KEY_PATTERN.fullmatch(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


# What may not stand in the quoted ASCII fallback name: anything outside printable ASCII
# (non-ASCII, CR/LF and other controls), the quote and backslash (quoted-string's own
# syntax: a title ending in \ would swallow the closing quote), % (some browsers decode
# %XX there) and path separators.
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%/]')


def attachment(filename: str) -> str:
    """A Content-Disposition that saves under `filename`, whatever its characters
    (RFC 6266): `filename*` carries the exact name, UTF-8 and percent-encoded (RFC 5987),
    for every current browser; `filename` an ASCII approximation for the others."""
    # No control characters (a newline in a title) in either name.
    filename = "".join("_" if unicodedata.category(c) == "Cc" else c for c in filename)
    # Accents dropped where Unicode can (Café → Cafe), then whatever is left replaced.
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = _FALLBACK_UNSAFE.sub(lambda m: "'" if m[0] == '"' else "_", ascii_name).strip()
    exact = quote(filename, safe="")  # RFC 5987 attr-chars only: "/" encoded too
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{exact}"


class Storage(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None:
        """Store the object, replacing any object at the key. All or nothing."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object; raises ObjectNotFound. Close it after use."""

    def read(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under the prefix, for sweeps and tests."""

    @abstractmethod
    def url(
        self, key: str, *, expires_in: int | None = None, download_as: str | None = None
    ) -> str:
        """A URL a browser can fetch the object from.

        With `expires_in` (seconds) the URL is signed and stops working after that.
        With `download_as` (signed URLs only) the browser saves it under that file name.
        """

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError when the backend cannot be used right now."""


class LocalStorage(Storage):
    """Objects as files under a folder, served by the app at /media/{key}.

    Signed URLs carry an expiry and an HMAC of (key, expiry) made with SECRET_KEY.
    """

    def __init__(self, root: Path, *, secret_key: str):
        self.root = root.resolve()
        self._secret = secret_key.encode()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a reader never sees half a file.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                if isinstance(data, bytes | bytearray | memoryview):
                    tmp.write(data)
                else:
                    shutil.copyfileobj(data, tmp, length=1024 * 1024)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def url(
        self, key: str, *, expires_in: int | None = None, download_as: str | None = None
    ) -> str:
        path = MEDIA_URL_PREFIX + quote(check_key(key))
        if expires_in is None:
            if download_as is not None:
                raise ValueError("a download name needs a signed URL")
            return path
        expires = int(time.time()) + expires_in
        params: dict[str, str | int] = {"expires": expires}
        if download_as is not None:
            params["download"] = download_as
        params["signature"] = self._signature(key, expires, download_as or "")
        return f"{path}?{urlencode(params)}"

    def verify_signature(self, key: str, expires: str, signature: str, download: str = "") -> bool:
        """True when a /media URL's signature is ours and has not expired."""
        try:
            expires_at = int(expires)
        except ValueError:
            return False
        if expires_at < time.time():
            return False
        return hmac.compare_digest(self._signature(key, expires_at, download), signature)

    def _signature(self, key: str, expires: int, download: str) -> str:
        message = f"{key}\n{expires}\n{download}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK):
            raise StorageError(f"media folder {self.root} is missing or not writable")


class S3Storage(Storage):
    """Objects in an S3 bucket (or any S3-compatible server via S3_ENDPOINT_URL).

    The bucket stays private: browsers get presigned URLs here, and the CDN's
    URLs where one is configured.
    """

    # A presigned URL needs an expiry; public media are served by the CDN instead.
    DEFAULT_URL_EXPIRY = 3600

    def __init__(
        self, *, bucket: str, region: str | None, endpoint_url: str | None, client: Any = None
    ):
        self.bucket = bucket
        self._client = client or boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=3,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
                # Path-style works with every S3-compatible server; AWS accepts it too.
                s3={"addressing_style": "path"} if endpoint_url else {},
                signature_version="s3v4",
            ),
        )

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None:
        check_key(key)
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                self._client.put_object(
                    Bucket=self.bucket, Key=key, Body=bytes(data), ContentType=content_type
                )
            else:
                # Multipart for large streams; S3 only shows the object once complete.
                self._client.upload_fileobj(
                    data, self.bucket, key, ExtraArgs={"ContentType": content_type}
                )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not store {key!r} in bucket {self.bucket!r}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from None
            raise StorageError(f"could not read {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not read {key!r}: {exc}") from exc
        body: BinaryIO = response["Body"]  # botocore's StreamingBody
        return body

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not delete {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StorageError(f"could not look up {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not look up {key!r}: {exc}") from exc
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not list bucket {self.bucket!r}: {exc}") from exc

    def url(
        self, key: str, *, expires_in: int | None = None, download_as: str | None = None
    ) -> str:
        check_key(key)
        params = {"Bucket": self.bucket, "Key": key}
        if download_as is not None:
            params["ResponseContentDisposition"] = attachment(download_as)
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in or self.DEFAULT_URL_EXPIRY
        )
        return url

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"bucket {self.bucket!r} does not exist") from exc
            raise StorageError(f"bucket {self.bucket!r} cannot be reached: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"bucket {self.bucket!r} cannot be reached: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def build_storage(settings: Settings) -> Storage:
    """The storage the settings ask for: the only place that chooses."""
    if settings.storage_backend == "s3":
        assert settings.s3_bucket  # guaranteed by settings validation
        return S3Storage(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
        )
    return LocalStorage(settings.media_root, secret_key=settings.secret_key)
