"""One image with everything its page shows, for a viewer who may see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from imageshare.auth.viewer import Viewer
from imageshare.images import records, visibility
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Image, Rendition
from imageshare.images.service import get_visible
from imageshare.users.models import User


@dataclass(frozen=True)
class ImageDetail:
    image: Image
    owner: User
    renditions: dict[RenditionName, Rendition]
    tags: list[str]
    viewer_is_owner: bool

    @property
    def gps(self) -> tuple[float, float] | None:
        """The position in the file: for the owner's eyes only."""
        image = self.image
        if not self.viewer_is_owner or image.gps_latitude is None or image.gps_longitude is None:
            return None
        return image.gps_latitude, image.gps_longitude


def get_detail(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> ImageDetail:
    """Everything about an image; NotFound for a private one (unless it is the viewer's),
    an unknown id, or one being deleted. (Its comments and their count: comments.service.)"""
    image = get_visible(db, viewer=viewer, image_id=image_id)
    owner = db.get(User, image.owner_id)
    assert owner is not None  # owner_id is a foreign key, deleted with its images
    return ImageDetail(
        image=image,
        owner=owner,
        renditions=records.renditions_by_image(db, image_ids=[image_id]).get(image_id, {}),
        tags=records.tags_by_image(db, image_ids=[image_id])[image_id],
        viewer_is_owner=visibility.is_owner(viewer, image),
    )
