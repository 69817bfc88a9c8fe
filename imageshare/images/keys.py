"""Where an image's objects live in storage: its original and its renditions."""

from __future__ import annotations

import re
import uuid

from imageshare.images.kinds import RenditionName


def original_key(image_id: uuid.UUID) -> str:
    return f"originals/{image_id}"


def rendition_key(image_id: uuid.UUID, name: RenditionName) -> str:
    return f"renditions/{image_id}/{name.value}.webp"


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_RENDITION_KEY = re.compile(rf"^renditions/(?P<id>{_UUID})/(thumb|medium|large)\.webp\Z")


def image_id_of_rendition(key: str) -> uuid.UUID | None:
    """The image a rendition key belongs to; None for any other key (originals too)."""
    match = _RENDITION_KEY.match(key)
    return uuid.UUID(match["id"]) if match else None
