"""Where a browser fetches an image's pixels, and the /media route of local storage.

One function decides every media URL: public and unlisted images get a plain URL
(the CDN's when CDN_BASE_URL is set); private ones a signed URL that expires in ten
minutes (S3 presigned, or HMAC-signed /media URL with local storage). With CloudFront
signing keys every CDN URL is a CloudFront signed URL: ten minutes for private images,
a week or two for the others (images/cdn.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from imageshare.db import Sessions, run_in_session
from imageshare.images import service as images
from imageshare.images.cdn import CloudFrontUrls
from imageshare.images.keys import image_id_of_rendition
from imageshare.images.kinds import Visibility, download_extension
from imageshare.images.models import Image
from imageshare.settings import Settings
from imageshare.storage import LocalStorage, Storage, attachment, check_key

PRIVATE_URL_SECONDS = 600


def media_url(
    image: Image,
    key: str,
    *,
    settings: Settings,
    storage: Storage,
    signer: CloudFrontUrls | None,
) -> str:
    """`signer` is the app's CloudFront signer (cdn.build_signer: None without keys)."""
    private = image.visibility == Visibility.PRIVATE
    if signer is not None:
        # The distribution checks signatures on all media (see images/cdn.py for why).
        return (
            signer.private(key, expires_in=PRIVATE_URL_SECONDS) if private else signer.public(key)
        )
    if private:
        return storage.url(key, expires_in=PRIVATE_URL_SECONDS)
    if settings.cdn_base_url:
        return f"{settings.cdn_base_url}/{key}"
    return storage.url(key)


def absolute(url: str, *, public_url: str) -> str:
    """A media URL whole, for readers outside the site's own pages (API clients, link
    preview crawlers): local storage answers with paths (/media/…)."""
    return urljoin(public_url + "/", url)


def original_download_url(image: Image, *, storage: Storage) -> str:
    """The owner's link to the file exactly as uploaded, saved under the image's title.

    Originals are never public, so this is always a signed, short-lived URL; callers
    give it to the owner only.
    """
    name = image.title.replace("/", "-") + download_extension(image.content_type)
    return storage.url(image.original_key, expires_in=PRIVATE_URL_SECONDS, download_as=name)


@dataclass(frozen=True)
class MediaUrls:
    """media_url and its neighbours bound to one app's settings, storage and signer, as
    the wiring hands them to the pages and the API."""

    settings: Settings
    storage: Storage
    signer: CloudFrontUrls | None

    def url(self, image: Image, key: str) -> str:
        return media_url(
            image, key, settings=self.settings, storage=self.storage, signer=self.signer
        )

    def original(self, image: Image) -> str:
        return original_download_url(image, storage=self.storage)

    def absolute(self, url: str) -> str:
        return absolute(url, public_url=self.settings.public_url)


async def serve_media(request: Request, *, storage: Storage, sessions: Sessions) -> Response:
    """GET /media/{key}: local storage only. Signed URLs for anything; unsigned ones for
    renditions of ready, non-private images. Everything else is a plain 404."""
    key = request.path_params["key"]
    try:
        check_key(key)
    except ValueError:
        return _not_found()
    if not isinstance(storage, LocalStorage) or not await asyncio.to_thread(storage.exists, key):
        return _not_found()
    query = request.query_params
    expires, signature = query.get("expires"), query.get("signature")
    download = query.get("download")
    headers = {"X-Content-Type-Options": "nosniff"}
    if expires is not None or signature is not None:
        if not storage.verify_signature(key, expires or "", signature or "", download or ""):
            return _not_found()
        cache = f"private, max-age={PRIVATE_URL_SECONDS}"
        if download:
            headers["Content-Disposition"] = attachment(download)
    elif await _publicly_visible(key, sessions):
        cache = "public, max-age=3600"
    else:
        return _not_found()
    return FileResponse(
        storage.root / key,
        media_type="image/webp" if key.endswith(".webp") else "application/octet-stream",
        headers=headers | {"Cache-Control": cache},
    )


async def _publicly_visible(key: str, sessions: Sessions) -> bool:
    image_id = image_id_of_rendition(key)
    if image_id is None:
        return False  # originals are never served without a signature
    return await run_in_session(
        sessions, lambda db: images.rendition_is_public(db, image_id=image_id)
    )


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404)
