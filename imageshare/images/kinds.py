"""The named kinds of an image: visibility, status, rendition. Plain enums with no
heavy imports, so image processing can use them without loading the ORM."""

import enum


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # listed in the gallery and search
    UNLISTED = "unlisted"  # anyone with the link, listed nowhere
    PRIVATE = "private"  # the owner only; 404 for everyone else


class Status(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    # Being removed: hidden everywhere; its objects go first, then its rows.
    DELETING = "deleting"


class RenditionName(enum.StrEnum):
    THUMB = "thumb"
    MEDIUM = "medium"
    LARGE = "large"


# Event kinds (imageshare/events.py), published after the change commits.
STATUS_CHANGED = "image_status_changed"  # on owner_topic: processing → ready or failed
JOINED_GALLERY = "image_joined_gallery"  # on GALLERY_TOPIC: now listed for everyone


# Files accepted for upload, by what Pillow says they are (their content decides, not
# their name), and the MIME type each is stored and served as.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG from cameras and phones; the first picture
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
}
# The same, for people and for file pickers (the upload page derives its list from these).
READABLE_FORMATS = "JPEG, PNG, WebP, GIF or AVIF"
_ENDINGS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/gif": (".gif",),
    "image/avif": (".avif",),
}
# Each accepted type -> the file name endings a picker offers for it. Only a help for
# choosing: what a file is, is decided by its content. (A type added above without its
# endings here fails at import.)
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    content_type: _ENDINGS[content_type]
    for content_type in dict.fromkeys(ACCEPTED_FORMATS.values())
}


def download_extension(content_type: str) -> str:
    """The file name ending an original of this type is saved under."""
    return ACCEPTED_TYPES.get(content_type, ("",))[0]
