"""Image rows as the trusted parts of the app change and read them: the upload and
processing pipeline, removal, and the domain's own lists.

Nothing here asks who is looking. Callers have decided that already: the pipeline
works on images it was handed by an upload that checked its viewer; listing.py and
the service's batch readers filter by visibility first. Adapters (pages, the API)
never import this module (an import-linter contract in pyproject.toml says so); they
call images/service.py, listing.py and detail.py, which check the viewer.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from imageshare.db import utcnow
from imageshare.events import GALLERY_TOPIC, Event, owner_topic, publish_after_commit
from imageshare.images import visibility
from imageshare.images.keys import rendition_key
from imageshare.images.kinds import JOINED_GALLERY, STATUS_CHANGED, RenditionName, Status
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.images.processing import ProcessedImage

Condition = ColumnElement[bool]


class ImageGone(LookupError):
    """The image was deleted while it was being processed."""


def find_duplicate(db: Session, *, owner_id: int, sha256: str) -> Image | None:
    return db.exec(select(Image).where(Image.owner_id == owner_id, Image.sha256 == sha256)).first()


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
    announce_status(db, image)
    if visibility.is_listed(image):
        announce_joined_gallery(db, image)
    return image


def mark_failed(db: Session, *, image_id: uuid.UUID, reason: str) -> None:
    image = db.get(Image, image_id)
    if image is None or image.status == Status.DELETING:
        return
    image.status, image.failure_reason = Status.FAILED, reason[:500]
    image.updated_at = utcnow()
    db.add(image)
    announce_status(db, image)


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


def is_processing(db: Session, *, image_id: uuid.UUID) -> bool:
    """Whether the image is still there and processing (not deleted meanwhile)."""
    status = db.exec(select(Image.status).where(Image.id == image_id)).first()
    return status == Status.PROCESSING


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
    announce_status(db, image)
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


def pending_deletions(db: Session) -> list[uuid.UUID]:
    return list(db.exec(select(Image.id).where(Image.status == Status.DELETING)).all())


def announce_status(db: Session, image: Image) -> None:
    data = {"image_id": str(image.id), "status": image.status.value}
    publish_after_commit(db, Event(owner_topic(image.owner_id), STATUS_CHANGED, data))


def announce_joined_gallery(db: Session, image: Image) -> None:
    publish_after_commit(db, Event(GALLERY_TOPIC, JOINED_GALLERY, {"image_id": str(image.id)}))


# -- batches: one statement for any number of images ----------------------------------


def renditions_by_image(
    db: Session, *, image_ids: Sequence[uuid.UUID], where: Sequence[Condition] = ()
) -> dict[uuid.UUID, dict[RenditionName, Rendition]]:
    """`where`: conditions on the images (visibility.py's SQL forms), in the same statement."""
    found: dict[uuid.UUID, dict[RenditionName, Rendition]] = {}
    if image_ids:
        query = select(Rendition).where(col(Rendition.image_id).in_(image_ids))
        if where:
            query = query.join(Image, col(Image.id) == Rendition.image_id).where(*where)
        for rendition in db.exec(query).all():
            found.setdefault(rendition.image_id, {})[rendition.name] = rendition
    return found


def tags_by_image(
    db: Session, *, image_ids: Sequence[uuid.UUID], where: Sequence[Condition] = ()
) -> dict[uuid.UUID, list[str]]:
    """Each image's tags in alphabetical order ([] for an image without any)."""
    found: dict[uuid.UUID, list[str]] = {image_id: [] for image_id in image_ids}
    if image_ids:
        query = (
            select(ImageTag.image_id, Tag.name)
            .join(Tag, col(Tag.id) == ImageTag.tag_id)
            .where(col(ImageTag.image_id).in_(image_ids))
            .order_by(Tag.name)
        )
        if where:
            query = query.join(Image, col(Image.id) == ImageTag.image_id).where(*where)
        for image_id, name in db.exec(query).all():
            found[image_id].append(name)
    return found
