"""CloudFront signed URLs for media (CDN_BASE_URL with CLOUDFRONT_KEY_PAIR_ID and
CLOUDFRONT_PRIVATE_KEY).

With signing keys, the distribution's media behaviour trusts only our key group
(infra/terraform/cloudfront.tf), so every media URL is signed — that is what lets
CloudFront enforce the ten minutes of a private image's URL. CloudFront cannot tell a
private image's objects from a public one's (the keys have the same shape), so a
behaviour that served public media unsigned would serve a private image's objects to
anyone holding its key, long after its signed URL expired.

Public and unlisted images get long-lived URLs instead: valid for one to two weeks and
the same for a whole week (the expiry is rounded to a week, counted from the Unix
epoch), so browsers and CloudFront cache them as they would plain URLs. Making an image
private leaves URLs handed out before working for at most two weeks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from imageshare.settings import Settings, load_private_key

PUBLIC_WINDOW = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CloudFrontUrls:
    def __init__(self, *, base_url: str, key_pair_id: str, private_key_pem: str):
        self.base_url = base_url.rstrip("/")
        key = load_private_key(private_key_pem)
        # CloudFront verifies RSA-SHA1 signatures (its only algorithm for signed URLs).
        self._signer = CloudFrontSigner(
            key_pair_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
        )

    def signed(self, key: str, *, expires_at: datetime) -> str:
        """`CDN_BASE_URL/key`, signed with a canned policy that ends at `expires_at`."""
        url: str = self._signer.generate_presigned_url(
            f"{self.base_url}/{key}", date_less_than=expires_at
        )
        return url

    def private(self, key: str, *, expires_in: int, now: datetime | None = None) -> str:
        return self.signed(
            key, expires_at=(now or datetime.now(UTC)) + timedelta(seconds=expires_in)
        )

    def public(self, key: str, *, now: datetime | None = None) -> str:
        """Valid for one to two windows, and the same URL throughout one window."""
        now = now or datetime.now(UTC)
        window_start = _EPOCH + (now - _EPOCH) // PUBLIC_WINDOW * PUBLIC_WINDOW
        return self.signed(key, expires_at=window_start + 2 * PUBLIC_WINDOW)


def build_signer(settings: Settings) -> CloudFrontUrls | None:
    """The signer the settings ask for (CDN_BASE_URL with CloudFront keys), else None.
    Built once per app (wiring.py): loading a PEM key is not free; media URLs are many."""
    if not (settings.cdn_base_url and settings.cloudfront_key_pair_id):
        return None
    assert settings.cloudfront_private_key  # settings validation requires both keys
    return CloudFrontUrls(
        base_url=settings.cdn_base_url,
        key_pair_id=settings.cloudfront_key_pair_id,
        private_key_pem=settings.cloudfront_private_key,
    )
