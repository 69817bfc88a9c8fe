"""One image with everything its page shows, for a viewer who may see it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from imageshare.auth.viewer import Viewer
from imageshare.comments.models import Comment
from imageshare.images import service as images
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.images.service import get_visible
from imageshare.users.models import User


@dataclass(frozen=True)
class ImageDetail:
    image: Image
    owner: User
    renditions: dict[RenditionName, Rendition]
    tags: list[str]
    comment_count: int
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
    an unknown id, or one being deleted."""
    image = get_visible(db, viewer=viewer, image_id=image_id)
    return ImageDetail(
        image=image,
        owner=db.get_one(User, image.owner_id),
        renditions=renditions_by_image(db, image_ids=[image_id]).get(image_id, {}),
        tags=tags_of(db, image_id=image_id),
        comment_count=comment_counts(db, image_ids=[image_id])[image_id],
        viewer_is_owner=images.is_owner(viewer, image),
    )


def tags_of(db: Session, *, image_id: uuid.UUID) -> list[str]:
    return tags_by_image(db, image_ids=[image_id])[image_id]


# Batches for lists: one statement for any number of images. The caller has already
# decided that the viewer may see these images.


def renditions_by_image(
    db: Session, *, image_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[RenditionName, Rendition]]:
    found: dict[uuid.UUID, dict[RenditionName, Rendition]] = {}
    if image_ids:
        query = select(Rendition).where(col(Rendition.image_id).in_(image_ids))
        for rendition in db.exec(query).all():
            found.setdefault(rendition.image_id, {})[rendition.name] = rendition
    return found


def tags_by_image(db: Session, *, image_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each image's tags in alphabetical order ([] for an image without any)."""
    found: dict[uuid.UUID, list[str]] = {image_id: [] for image_id in image_ids}
    if image_ids:
        query = (
            select(ImageTag.image_id, Tag.name)
            .join(Tag, col(Tag.id) == ImageTag.tag_id)
            .where(col(ImageTag.image_id).in_(image_ids))
            .order_by(Tag.name)
        )
        for image_id, name in db.exec(query).all():
            found[image_id].append(name)
    return found


def comment_counts(db: Session, *, image_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    counts: dict[uuid.UUID, int] = {image_id: 0 for image_id in image_ids}
    if image_ids:
        query = (
            select(Comment.image_id, sa.func.count())
            .where(col(Comment.image_id).in_(image_ids))
            .group_by(col(Comment.image_id))
        )
        counts.update(db.exec(query).all())
    return counts
