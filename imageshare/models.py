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
