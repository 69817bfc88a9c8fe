"""Every table, imported in one place so SQLModel.metadata is complete.

Alembic and the test harness import this module; application code imports the
table it needs from its domain folder.
"""

from imageshare.auth.models import AccessToken, WebSession
from imageshare.comments.models import Comment
from imageshare.images import search
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.users.models import User

__all__ = [
    "AccessToken",
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

# Postgres-only search column and its index (images/search.py): SQLite cannot have
# them, so the models leave them out and migration 0002 makes them. Autogenerate would
# otherwise see them in the database and propose dropping them.
SKIPPED_BY_AUTOGENERATE = {("column", search.VECTOR_COLUMN), ("index", search.INDEX_NAME)}


def include_in_autogenerate(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    return (type_, name) not in SKIPPED_BY_AUTOGENERATE
