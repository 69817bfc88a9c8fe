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
