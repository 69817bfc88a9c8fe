"""One image with everything its page shows, for a viewer who may see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from imageshare.auth.viewer import Viewer
from imageshare.comments.models import Comment
from imageshare.errors import NotFound
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.images.service import get_for_viewer
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
    image = get_for_viewer(db, viewer=viewer, image_id=image_id)
    if image is None:
        raise NotFound("There is no image here.")
    owner = db.get(User, image.owner_id)
    renditions = {
        r.name: r for r in db.exec(select(Rendition).where(Rendition.image_id == image_id)).all()
    }
    return ImageDetail(
        image=image,
        owner=owner,
        renditions=renditions,
        tags=tags_of(db, image_id=image_id),
        comment_count=db.exec(
            select(sa.func.count()).select_from(Comment).where(Comment.image_id == image_id)
        ).one(),
        viewer_is_owner=image.owner_id == viewer.user_id,
    )


def tags_of(db: Session, *, image_id: uuid.UUID) -> list[str]:
    return list(
        db.exec(
            select(Tag.name)
            .join(ImageTag, ImageTag.tag_id == Tag.id)
            .where(ImageTag.image_id == image_id)
            .order_by(Tag.name)
        ).all()
    )
