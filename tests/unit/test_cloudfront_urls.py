"""CloudFront signed media URLs, checked offline the way CloudFront checks them: the
canned policy rebuilt from the URL, its signature verified with the public key of the
key group, its expiry read from the policy."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from imageshare.images.cdn import CloudFrontUrls, build_signer
from imageshare.images.kinds import Visibility
from imageshare.images.media import PRIVATE_URL_SECONDS, media_url
from imageshare.settings import SettingsError, load_settings
from imageshare.storage import build_storage

CDN = "https://d111.cloudfront.net"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
RENDITION = "renditions/0b7e6f2c-9d1c-4d7e-8a55-7f0c1c1b2a3d/medium.webp"


def settings(pem: str = PEM):
    return load_settings(
        {"CDN_BASE_URL": CDN, "CLOUDFRONT_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
         "CLOUDFRONT_PRIVATE_KEY": pem}
    )  # fmt: skip


def url_for(visibility: Visibility, key: str = RENDITION) -> str:
    image = type("I", (), {"visibility": visibility})()
    storage = build_storage(load_settings({"MEDIA_ROOT": "/tmp/imageshare-cdn-test"}))
    signer = build_signer(settings())  # as the wiring builds it, once per app
    return media_url(image, key, settings=settings(), storage=storage, signer=signer)


def verified_expiry(url: str, public_key: rsa.RSAPublicKey | None = None) -> datetime:
    """What CloudFront does with a canned-policy URL: rebuild the policy from the
    resource and Expires, check the signature; returns when the URL stops working."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    # The canned policy, to the byte as CloudFront rebuilds it.
    condition = '{"DateLessThan":{"AWS:EpochTime":' + query["Expires"] + "}}"
    policy = '{"Statement":[{"Resource":"' + resource + '","Condition":' + condition + "}]}"
    signature = base64.b64decode(
        query["Signature"].replace("-", "+").replace("_", "=").replace("~", "/")
    )
    (public_key or KEY.public_key()).verify(
        signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1()
    )
    return datetime.fromtimestamp(int(query["Expires"]), UTC)


def test_a_private_image_gets_a_url_signed_for_ten_minutes():
    before = datetime.now(UTC)
    url = url_for(Visibility.PRIVATE)
    assert url.startswith(f"{CDN}/{RENDITION}?")
    expires = verified_expiry(url)
    assert before + timedelta(seconds=PRIVATE_URL_SECONDS - 2) <= expires
    assert expires <= datetime.now(UTC) + timedelta(seconds=PRIVATE_URL_SECONDS)


def test_the_signature_binds_the_object_and_the_expiry():
    url = url_for(Visibility.PRIVATE)
    expires = parse_qs(urlsplit(url).query)["Expires"][0]
    later = url.replace(f"Expires={expires}", f"Expires={int(expires) + 3600}")
    other_object = url.replace("medium.webp", "large.webp")
    for forged in (later, other_object):
        with pytest.raises(InvalidSignature):
            verified_expiry(forged)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(InvalidSignature):
        verified_expiry(url, public_key=stranger)


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.UNLISTED])
def test_public_and_unlisted_urls_last_a_week_or_two_and_stay_the_same_all_week(visibility):
    url = url_for(visibility)
    expires = verified_expiry(url)
    now = datetime.now(UTC)
    assert now + timedelta(days=7) <= expires <= now + timedelta(days=14)
    # The same URL for every page load of the week, so caches keep working.
    assert url_for(visibility) == url


def test_the_public_window_turns_over_once_a_week():
    signer = CloudFrontUrls(base_url=CDN, key_pair_id="K2JCJMDEHXQW5F", private_key_pem=PEM)
    # Windows are counted from the Unix epoch, so they start on Thursdays at 00:00 UTC.
    thursday = datetime(2026, 11, 26, tzinfo=UTC)
    same_week = [signer.public(RENDITION, now=thursday + timedelta(hours=h)) for h in (0, 80, 167)]
    assert len(set(same_week)) == 1
    next_week = signer.public(RENDITION, now=thursday + timedelta(days=7))
    assert next_week != same_week[0]
    assert verified_expiry(next_week) - verified_expiry(same_week[0]) == timedelta(days=7)


def test_a_key_pasted_on_one_line_works_and_a_wrong_key_stops_the_app():
    one_line = PEM.replace("\n", "\\n")
    assert settings(one_line).cloudfront_private_key == one_line
    not_rsa = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    for bad, says in (("not a key", "PEM"), (not_rsa, "RSA key")):
        with pytest.raises(SettingsError, match=says):
            settings(bad)
