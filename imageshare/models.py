"""Every table, imported in one place so SQLModel.metadata is complete.

Alembic and the test harness import this module; application code imports the
table it needs from its domain folder.
"""

from imageshare.auth.models import WebSession
from imageshare.comments.models import Comment
from imageshare.images.models import (
    Image,
    ImageTag,
    Rendition,
    RenditionName,
    Status,
    Tag,
    Visibility,
)
from imageshare.users.models import User

__all__ = [
    "Comment",
    "Image",
    "ImageTag",
    "Rendition",
    "RenditionName",
    "Status",
    "Tag",
    "User",
    "Visibility",
    "WebSession",
]

# Alembic cannot compare expression indexes: it would see this one in the database and
# never in the models, and propose dropping it. Migration 0002 creates it.
SKIPPED_BY_AUTOGENERATE = {("index", "ix_image_search")}


def include_in_autogenerate(_object, name, type_, _reflected, _compare_to) -> bool:
    return (type_, name) not in SKIPPED_BY_AUTOGENERATE
