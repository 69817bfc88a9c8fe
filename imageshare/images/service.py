"""The rules about images that a viewer meets: what a description may hold, which
image a viewer may see or change, and the changes an owner makes.

Every function that reads or changes an image takes the Viewer asking and decides
for them; pages and the API call these (and listing.py, detail.py, uploads.py,
removal.py). The pipeline's own row changes, which trust their caller, are in
records.py. Who sees what is visibility.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import cast

from sqlmodel import Session

from imageshare import text
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.db import utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.images import records, visibility
from imageshare.images.inspection import Inspection
from imageshare.images.keys import original_key
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, Rendition

MAX_TAGS = 10
# Images one request may delete together (a profile page selects far fewer).
MAX_BULK_DELETE = 100
MAX_TAG_LENGTH = 50
MAX_TITLE = 200
MAX_LOCATION = 200
MAX_DESCRIPTION = 5000


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
        return cls(
            title=clean_title(title),
            description=clean_description(description),
            location=clean_location(location),
            tags=normalise_tags(tags),
            visibility=clean_visibility(visibility),
        )

    def with_title(self, title: str) -> ImageDetails:
        """The same details for another image of a batch, under its own title."""
        return replace(self, title=clean_title(title))


@dataclass(frozen=True)
class ImagePatch:
    """The changes an owner asks for. A field left None keeps its value, so a page or
    an API client sends only what changed (and two people editing different fields
    do not undo each other)."""

    title: str | None = None
    description: str | None = None
    location: str | None = None
    tags: str | Iterable[str] | None = None
    visibility: str | None = None

    def cleaned(self) -> dict[str, object]:
        """The fields given, each trimmed and checked (InvalidInput otherwise)."""
        cleaners = {
            "title": clean_title,
            "description": clean_description,
            "location": clean_location,
            "tags": normalise_tags,
            "visibility": clean_visibility,
        }
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: cleaners[name](value) for name, value in given.items() if value is not None}


def clean_title(title: str) -> str:
    title = text.one_line(title)
    if not title:
        raise InvalidInput("A title is required.")
    return text.at_most(title, MAX_TITLE, "The title")


def clean_description(description: str) -> str:
    return text.at_most(text.paragraphs(description), MAX_DESCRIPTION, "The description")


def clean_location(location: str) -> str:
    return text.at_most(text.one_line(location), MAX_LOCATION, "The location")


def clean_visibility(value: str) -> Visibility:
    try:
        return Visibility(str(value).strip().lower())
    except ValueError:
        raise InvalidInput("Visibility must be public, unlisted or private.") from None


def normalise_tags(tags: str | Iterable[str]) -> tuple[str, ...]:
    """Comma-separated text (or a list) → lower-case, trimmed, unique tags, in order."""
    parts = tags.split(",") if isinstance(tags, str) else list(tags)
    result: list[str] = []
    for part in parts:
        tag = text.one_line(part).lower().lstrip("# ")  # "# sea" is the tag "sea"
        if not tag or tag in result:
            continue
        result.append(text.at_most(tag, MAX_TAG_LENGTH, f"The tag “{tag[:20]}…”"))
    if len(result) > MAX_TAGS:
        raise InvalidInput(f"An image can have at most {MAX_TAGS} tags, not {len(result)}.")
    return tuple(result)


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


def get_for_viewer(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> Image | None:
    """The image if this viewer may see it; None as if it did not exist otherwise."""
    image = db.get(Image, image_id)
    if image is None or not visibility.can_view(viewer, image):
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
    if not visibility.is_owner(viewer, image):
        raise NotAllowed("Only its owner can change this image.")
    return image


def update_image(db: Session, *, viewer: Viewer, image_id: uuid.UUID, patch: ImagePatch) -> Image:
    """The owner changes the fields the patch gives; the others keep their value."""
    changes = patch.cleaned()  # refused before anything is read or locked
    image = get_own(db, viewer=viewer, image_id=image_id)
    # Locked and read again (Postgres), as records.mark_ready does: whichever of the two
    # comes second sees the other's change, so an image that becomes listed is
    # announced once.
    db.refresh(image, with_for_update=True)
    was_listed = visibility.is_listed(image)
    # normalise_tags' tuple when given (cleaned() types every value as object)
    tags = cast("tuple[str, ...] | None", changes.pop("tags", None))
    for name, value in changes.items():
        setattr(image, name, value)
    image.updated_at = utcnow()
    db.add(image)
    if tags is not None:
        records.set_tags(db, image_id=image_id, tags=tags)
    if visibility.is_listed(image) and not was_listed:
        records.announce_joined_gallery(db, image)
    return image


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


def rendition_is_public(db: Session, *, image_id: uuid.UUID) -> bool:
    """May anyone fetch this image's renditions without a signed URL?"""
    image = get_for_viewer(db, viewer=ANONYMOUS, image_id=image_id)
    return image is not None and image.status == Status.READY


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
    records.set_tags(db, image_id=image_id, tags=details.tags)
    return image


# -- batches for lists (DataLoaders): one statement for any number of images, and only
# the images this viewer may see (an id the viewer may not see gets nothing).


def renditions_for(
    db: Session, *, viewer: Viewer, image_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[RenditionName, Rendition]]:
    where = visibility.viewable(viewer)
    return records.renditions_by_image(db, image_ids=image_ids, where=where)


def tags_for(
    db: Session, *, viewer: Viewer, image_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each image's tags in alphabetical order ([] for one without any, or unseen)."""
    return records.tags_by_image(db, image_ids=image_ids, where=visibility.viewable(viewer))
