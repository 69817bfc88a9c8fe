"""The rules about images: what a description may hold, who may see what, and the
rows that record an image's life (processing → ready or failed).

Functions take the database session and, where it matters, the Viewer asking.
Storage and pixels are handled by uploads.py and pipeline.py, which call these.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.db import utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.events import GALLERY_TOPIC, Event, owner_topic, publish_after_commit
from imageshare.images.inspection import Inspection
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.images.processing import ProcessedImage

# Event kinds (imageshare/events.py), published after the change commits.
STATUS_CHANGED = "image_status_changed"  # on owner_topic: processing → ready or failed
JOINED_GALLERY = "image_joined_gallery"  # on GALLERY_TOPIC: now listed for everyone

MAX_TAGS = 10
# Images one request may delete together (a profile page selects far fewer).
MAX_BULK_DELETE = 100
MAX_TAG_LENGTH = 50
MAX_TITLE = 200
MAX_LOCATION = 200
MAX_DESCRIPTION = 5000


class ImageGone(LookupError):
    """The image was deleted while it was being processed."""


@dataclass(frozen=True)
class ImageDetails:
    """What the uploader says about an image."""

    title: str
    description: str = ""
    location: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    visibility: Visibility = Visibility.PUBLIC

    @classmethod
    def clean(
        cls,
        *,
        title: str,
        description: str = "",
        location: str = "",
        tags: str | Iterable[str] = (),
        visibility: str = Visibility.PUBLIC,
    ) -> ImageDetails:
        """Trimmed and checked details, or InvalidInput."""
        title = clean_title(title)
        description = text.paragraphs(description)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"The description is longer than {MAX_DESCRIPTION} characters.")
        location = text.one_line(location)
        if len(location) > MAX_LOCATION:
            raise InvalidInput(f"The location is longer than {MAX_LOCATION} characters.")
        try:
            chosen = Visibility(str(visibility).strip().lower())
        except ValueError:
            raise InvalidInput("Visibility must be public, unlisted or private.") from None
        return cls(title, description, location, normalise_tags(tags), chosen)

    def with_title(self, title: str) -> ImageDetails:
        """The same details for another image of a batch, under its own title."""
        return replace(self, title=clean_title(title))


def clean_title(title: str) -> str:
    title = text.one_line(title)
    if not title:
        raise InvalidInput("A title is required.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title is longer than {MAX_TITLE} characters.")
    return title


def normalise_tags(tags: str | Iterable[str]) -> tuple[str, ...]:
    """Comma-separated text (or a list) → lower-case, trimmed, unique tags, in order."""
    parts = tags.split(",") if isinstance(tags, str) else list(tags)
    result: list[str] = []
    for part in parts:
        tag = text.one_line(part).lower().lstrip("#")
        if not tag or tag in result:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidInput(f"The tag “{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters.")
        result.append(tag)
    if len(result) > MAX_TAGS:
        raise InvalidInput(f"An image can have at most {MAX_TAGS} tags, not {len(result)}.")
    return tuple(result)


def original_key(image_id: uuid.UUID) -> str:
    return f"originals/{image_id}"


def rendition_key(image_id: uuid.UUID, name: RenditionName) -> str:
    return f"renditions/{image_id}/{name.value}.webp"


def best_rendition(
    renditions: dict[RenditionName, Rendition], name: RenditionName
) -> Rendition | None:
    """The rendition asked for or, for a source too small to have it, the largest
    smaller one (a 800-pixel image has no large: its medium is its largest)."""
    order = list(RenditionName)
    for candidate in reversed(order[: order.index(name) + 1]):
        if candidate in renditions:
            return renditions[candidate]
    return None


_RENDITION_KEY = re.compile(r"^renditions/(?P<id>[0-9a-f-]{36})/(thumb|medium|large)\.webp$")


def image_id_of_rendition(key: str) -> uuid.UUID | None:
    """The image a rendition key belongs to; None for any other key (originals too)."""
    match = _RENDITION_KEY.match(key)
    return uuid.UUID(match["id"]) if match else None


def is_owner(viewer: Viewer, image: Image) -> bool:
    """Whether the viewer owns the image: may edit and delete it, sees its original,
    its place and why processing failed."""
    return viewer.user_id is not None and image.owner_id == viewer.user_id


def can_view(viewer: Viewer, image: Image) -> bool:
    """By link or id: the owner always; others unless it is private. An image being
    deleted is gone for everyone."""
    if image.status == Status.DELETING:
        return False
    return is_owner(viewer, image) or image.visibility != Visibility.PRIVATE


def get_for_viewer(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> Image | None:
    """The image if this viewer may see it; None as if it did not exist otherwise."""
    image = db.get(Image, image_id)
    if image is None or not can_view(viewer, image):
        return None
    return image


def get_visible(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> Image:
    """get_for_viewer for callers that need the image: NotFound when there is none."""
    image = get_for_viewer(db, viewer=viewer, image_id=image_id)
    if image is None:
        raise NotFound("There is no image here.")
    return image


def get_own(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> Image:
    """The viewer's own image, to change: NotFound when they may not even see it,
    NotAllowed when it is someone else's."""
    image = get_for_viewer(db, viewer=viewer, image_id=image_id)
    if image is None:
        raise NotFound("There is no such image.")
    if not is_owner(viewer, image):
        raise NotAllowed("Only its owner can change this image.")
    return image


def update_details(
    db: Session, *, viewer: Viewer, image_id: uuid.UUID, details: ImageDetails
) -> Image:
    """The owner rewrites title, description, location, tags and visibility."""
    image = get_own(db, viewer=viewer, image_id=image_id)
    # Locked and read again (Postgres), as mark_ready does: whichever of the two comes
    # second sees the other's change, so an image that becomes listed is announced once.
    db.refresh(image, with_for_update=True)
    was_listed = is_listed(image)
    image.title, image.description = details.title, details.description
    image.location, image.visibility = details.location, details.visibility
    image.updated_at = utcnow()
    db.add(image)
    set_tags(db, image_id=image_id, tags=details.tags)
    if is_listed(image) and not was_listed:
        _announce_joined_gallery(db, image)
    return image


def is_listed(image: Image) -> bool:
    """Listed for everyone (gallery, search, others' view of a profile): public and
    ready. listing.py says the same in SQL."""
    return image.visibility == Visibility.PUBLIC and image.status == Status.READY


def _announce_status(db: Session, image: Image) -> None:
    data = {"image_id": str(image.id), "status": image.status.value}
    publish_after_commit(db, Event(owner_topic(image.owner_id), STATUS_CHANGED, data))


def _announce_joined_gallery(db: Session, image: Image) -> None:
    publish_after_commit(db, Event(GALLERY_TOPIC, JOINED_GALLERY, {"image_id": str(image.id)}))


def begin_deletion(
    db: Session, *, viewer: Viewer, image_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """Mark the viewer's images as being deleted: from now on they are gone for
    everyone. All or nothing: one image that is not theirs refuses the whole request.
    The objects and rows are then removed by images/removal.py."""
    ids = list(dict.fromkeys(image_ids))
    if not 1 <= len(ids) <= MAX_BULK_DELETE:
        raise InvalidInput(
            f"Give between 1 and {MAX_BULK_DELETE} images to delete; {len(ids)} were given."
        )
    for image_id in ids:
        image = get_own(db, viewer=viewer, image_id=image_id)
        image.status, image.updated_at = Status.DELETING, utcnow()
        db.add(image)
    db.flush()
    return ids


def pending_deletions(db: Session) -> list[uuid.UUID]:
    return list(db.exec(select(Image.id).where(Image.status == Status.DELETING)).all())


def rendition_is_public(db: Session, *, image_id: uuid.UUID) -> bool:
    """May anyone fetch this image's renditions without a signed URL?"""
    image = get_for_viewer(db, viewer=ANONYMOUS, image_id=image_id)
    return image is not None and image.status == Status.READY


def find_duplicate(db: Session, *, owner_id: int, sha256: str) -> Image | None:
    return db.exec(select(Image).where(Image.owner_id == owner_id, Image.sha256 == sha256)).first()


def create_processing(
    db: Session,
    *,
    viewer: Viewer,
    image_id: uuid.UUID,
    details: ImageDetails,
    inspection: Inspection,
    byte_size: int,
    sha256: str,
) -> Image:
    """The row for a new upload, status processing, before its original is stored."""
    if viewer.user_id is None:
        raise NotAllowed("Sign in to upload images.")
    image = Image(
        id=image_id,
        owner_id=viewer.user_id,
        title=details.title,
        description=details.description,
        location=details.location,
        visibility=details.visibility,
        status=Status.PROCESSING,
        original_key=original_key(image_id),
        content_type=inspection.content_type,
        byte_size=byte_size,
        sha256=sha256,
        width=inspection.width,
        height=inspection.height,
    )
    db.add(image)
    db.flush()
    set_tags(db, image_id=image_id, tags=details.tags)
    return image


def set_tags(db: Session, *, image_id: uuid.UUID, tags: Iterable[str]) -> None:
    db.exec(delete(ImageTag).where(col(ImageTag.image_id) == image_id))
    for name in tags:
        db.add(ImageTag(image_id=image_id, tag_id=_tag_id(db, name)))
    db.flush()


def _tag_id(db: Session, name: str) -> int:
    """The tag's id, creating the tag if needed — safe when two uploads add it at once."""
    existing = db.exec(select(Tag.id).where(Tag.name == name)).first()
    if existing is not None:
        return existing
    try:
        with db.begin_nested():
            tag = Tag(name=name)
            db.add(tag)
            db.flush()
            assert tag.id is not None  # the flush gave it one
            return tag.id
    except IntegrityError:
        # Another transaction created it between our look-up and insert.
        tag_id = db.exec(select(Tag.id).where(col(Tag.name) == name)).one()
        assert tag_id is not None  # a stored row's primary key
        return tag_id


def mark_ready(db: Session, *, image_id: uuid.UUID, processed: ProcessedImage) -> Image:
    """Record the renditions and metadata; the image becomes visible where it belongs."""
    image = db.get(Image, image_id, with_for_update=True)
    if image is None or image.status == Status.DELETING:
        # Deleted while it was processed: the caller removes the renditions it wrote.
        raise ImageGone(f"image {image_id} is gone")
    db.exec(delete(Rendition).where(col(Rendition.image_id) == image_id))
    for rendition in processed.renditions:
        db.add(
            Rendition(
                image_id=image_id,
                name=rendition.name,
                key=rendition_key(image_id, rendition.name),
                width=rendition.width,
                height=rendition.height,
                byte_size=len(rendition.data),
            )
        )
    meta = processed.metadata
    image.width, image.height = processed.width, processed.height
    image.placeholder = processed.placeholder
    image.taken_at, image.camera_make, image.camera_model = (
        meta.taken_at,
        meta.camera_make,
        meta.camera_model,
    )
    image.lens, image.exposure_time, image.aperture = meta.lens, meta.exposure_time, meta.aperture
    image.iso, image.focal_length = meta.iso, meta.focal_length
    image.has_location = meta.has_location
    image.gps_latitude, image.gps_longitude = meta.gps_latitude, meta.gps_longitude
    image.status, image.failure_reason = Status.READY, None
    image.updated_at = utcnow()
    db.add(image)
    db.flush()
    _announce_status(db, image)
    if is_listed(image):
        _announce_joined_gallery(db, image)
    return image


def mark_failed(db: Session, *, image_id: uuid.UUID, reason: str) -> None:
    image = db.get(Image, image_id)
    if image is None or image.status == Status.DELETING:
        return
    image.status, image.failure_reason = Status.FAILED, reason[:500]
    image.updated_at = utcnow()
    db.add(image)
    _announce_status(db, image)


# -- processing jobs: the row is the source of truth, messages only carry its id ------


class Claim(enum.Enum):
    TAKEN = "taken"  # this attempt is ours: process it
    BUSY = "busy"  # another attempt is under way and alive
    GIVE_UP = "give up"  # attempts used up and the last one is dead: fail it
    NOTHING = "nothing"  # gone, ready, failed or being deleted: nothing to do


def claim_processing(
    db: Session, *, image_id: uuid.UUID, stale_after: timedelta, max_attempts: int
) -> Claim:
    """Take up the image's processing, counting an attempt.

    One UPDATE decides, so two workers handed the same job (a duplicate delivery, a
    recovery round) never process it at once: a first attempt is taken at once; a
    retry only when the previous attempt has shown no life for `stale_after`.
    """
    now = utcnow()
    taken = db.exec(
        update(Image)
        .where(
            col(Image.id) == image_id,
            col(Image.status) == Status.PROCESSING,
            col(Image.processing_attempts) < max_attempts,
            (col(Image.processing_attempts) == 0)
            | (col(Image.processing_seen_at) <= now - stale_after),
        )
        .values(processing_attempts=Image.processing_attempts + 1, processing_seen_at=now)
    )
    if taken.rowcount == 1:
        return Claim.TAKEN
    row = db.exec(
        select(Image.status, Image.processing_attempts, Image.processing_seen_at).where(
            Image.id == image_id
        )
    ).first()
    if row is None or row[0] != Status.PROCESSING:
        return Claim.NOTHING
    if row[1] >= max_attempts and row[2] <= now - stale_after:
        return Claim.GIVE_UP
    return Claim.BUSY


def keep_processing(db: Session, *, image_id: uuid.UUID) -> None:
    """The attempt under way is alive (a heartbeat): nobody else may claim it."""
    db.exec(
        update(Image)
        .where(col(Image.id) == image_id, col(Image.status) == Status.PROCESSING)
        .values(processing_seen_at=utcnow())
    )


def release_processing(
    db: Session, *, image_id: uuid.UUID, stale_after: timedelta, attempt_spent: bool
) -> None:
    """The attempt under way stops: the image may be claimed again at once (its job
    comes back through the queue; the sweep still counts it as alive).

    A worker that stops for a deploy gives its attempt back (attempt_spent=False); one
    whose attempt failed keeps it counted, so a poison file still runs out of attempts.
    """
    values: dict[str, Any] = {"processing_seen_at": utcnow() - stale_after - timedelta(seconds=1)}
    if not attempt_spent:
        values["processing_attempts"] = sa.case(
            (col(Image.processing_attempts) > 0, Image.processing_attempts - 1), else_=0
        )
    db.exec(
        update(Image)
        .where(col(Image.id) == image_id, col(Image.status) == Status.PROCESSING)
        .values(**values)
    )


def stalled(db: Session, *, older_than: timedelta, limit: int = 100) -> list[uuid.UUID]:
    """Images left processing without a sign of life for a while (a crash, a lost job)."""
    cutoff = utcnow() - older_than
    return list(
        db.exec(
            select(Image.id)
            .where(Image.status == Status.PROCESSING, Image.processing_seen_at <= cutoff)
            .order_by(col(Image.processing_seen_at))
            .limit(limit)
        ).all()
    )


def attempts_used_up(db: Session, *, image_id: uuid.UUID, max_attempts: int) -> bool:
    attempts = db.exec(select(Image.processing_attempts).where(Image.id == image_id)).first()
    return attempts is not None and attempts >= max_attempts


def give_up_processing(
    db: Session, *, image_id: uuid.UUID, stale_after: timedelta, max_attempts: int, reason: str
) -> bool:
    """Fail an image whose attempts are used up and whose last attempt is dead; its
    rendition rows go (the caller deletes their objects). False when it was not that."""
    now = utcnow()
    image = db.get(Image, image_id, with_for_update=True)
    if (
        image is None
        or image.status != Status.PROCESSING
        or image.processing_attempts < max_attempts
        or image.processing_seen_at > now - stale_after
    ):
        return False
    db.exec(delete(Rendition).where(col(Rendition.image_id) == image_id))
    image.status, image.failure_reason, image.updated_at = Status.FAILED, reason[:500], now
    db.add(image)
    _announce_status(db, image)
    return True


def remove_abandoned(db: Session, *, image_id: uuid.UUID, older_than: timedelta) -> bool:
    """Delete a row still processing and untouched for a while (its upload never
    completed); False when it has moved on meanwhile."""
    result = db.exec(
        delete(Image).where(
            col(Image.id) == image_id,
            col(Image.status) == Status.PROCESSING,
            col(Image.processing_seen_at) <= utcnow() - older_than,
        )
    )
    return result.rowcount == 1


def remove_row(db: Session, *, image_id: uuid.UUID) -> None:
    """Delete the image's rows (renditions, tag links and comments cascade)."""
    db.exec(delete(Image).where(col(Image.id) == image_id))
