"""Short links: /s/{code} for an image, and who may follow one.

Following a link obeys the same visibility as opening the image by id: public and
unlisted images open for anyone; a private one only for its owner.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imageshare.auth.viewer import Viewer
from imageshare.db import utcnow
from imageshare.errors import NotFound
from imageshare.images.kinds import Visibility
from imageshare.images.models import Image
from imageshare.images.service import get_own
from imageshare.images.share_codes import is_share_code, new_share_code
from imageshare.images.visibility import can_view

ATTEMPTS = 5


def share_url(public_url: str, code: str) -> str:
    """The short link of a share code on the site at `public_url` (PUBLIC_URL)."""
    return f"{public_url}/s/{code}"


def has_preview(image: Image) -> bool:
    """Link-preview cards exist for public and unlisted images; a private image's title
    never goes out to a crawler."""
    return image.visibility != Visibility.PRIVATE


def image_for_code(db: Session, *, viewer: Viewer, code: str) -> Image:
    """The image a short link points at, if this viewer may follow it."""
    image = None
    if is_share_code(code):
        image = db.exec(select(Image).where(Image.share_code == code)).first()
    if image is None or not can_view(viewer, image):
        raise NotFound("This link does not lead anywhere.")
    return image


def regenerate_code(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> str:
    """A new code for the owner's image; the old link stops working at once."""
    image = get_own(db, viewer=viewer, image_id=image_id)
    for _ in range(ATTEMPTS):
        try:
            with db.begin_nested():
                image.share_code = new_share_code()
                image.updated_at = utcnow()
                db.add(image)
                db.flush()
            return image.share_code
        except IntegrityError:
            continue  # an astronomically rare collision: draw again
    raise RuntimeError("could not draw an unused share code")
