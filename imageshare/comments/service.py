"""The rules about comments: who may read, write and delete them, and their pages.

Anyone who may see an image may read its comments; signed-in people who may see it
may add one; authors delete their own, and an image's owner deletes any on it.
Additions and deletions are announced as events on the image's topic after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.viewer import Viewer
from imageshare.comments.models import Comment
from imageshare.db import MAX_INTEGER_KEY, get_by_id, utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.events import Event, image_topic, publish_after_commit
from imageshare.images import visibility
from imageshare.images.models import Image
from imageshare.images.service import get_for_viewer, get_visible
from imageshare.paging import Order, Page, encode_cursor, fetch_page
from imageshare.users.models import User

MAX_LENGTH = 2000
PAGE_SIZE = 50

ADDED = "comment_added"
DELETED = "comment_deleted"


@dataclass(frozen=True)
class CommentView:
    """A comment as a viewer sees it, with whether they may delete it."""

    id: int
    image_id: uuid.UUID
    body: str
    created_at: datetime
    author: User
    can_delete: bool


def parse_id(value: str) -> int:
    """A comment id as text ("12", not "²", "-1" or past 32 bits), or ValueError."""
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"not a comment id: {value!r}")
    number = int(value)
    if not 0 < number <= MAX_INTEGER_KEY:
        raise ValueError(f"not a comment id: {value!r}")
    return number


CommentPage = Page[CommentView]

# Oldest first, through the index on (image_id, created_at, id).
OLDEST_FIRST = Order(
    col(Comment.created_at), col(Comment.id), parse_id=parse_id, newest_first=False
)


def _may_delete(viewer: Viewer, comment: Comment, image: Image) -> bool:
    if viewer.is_anonymous:
        return False
    return viewer.user_id in (comment.author_id, image.owner_id)


def list_comments(
    db: Session,
    *,
    viewer: Viewer,
    image_id: uuid.UUID,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> CommentPage:
    """Oldest first, a page at a time; `after` is the page's `after` cursor."""
    image = get_visible(db, viewer=viewer, image_id=image_id)
    query = (
        select(Comment, User)
        .join(User, col(User.id) == Comment.author_id)
        .where(Comment.image_id == image_id)
    )
    page: Page[tuple[Comment, User]] = fetch_page(
        db,
        query,
        order=OLDEST_FIRST,
        edge=lambda row: (row[0].created_at, row[0].id),
        after=after,
        before=None,
        limit=limit,
    )
    return page.map(lambda rows: [_view(viewer, c, author, image) for c, author in rows])


def cursor_of(view: CommentView) -> str:
    """The page cursor at this comment (an API edge's own cursor)."""
    return encode_cursor(view.created_at, view.id)


def count_comments(db: Session, *, viewer: Viewer, image_id: uuid.UUID) -> int:
    """How many comments an image the viewer may see has (NotFound otherwise)."""
    get_visible(db, viewer=viewer, image_id=image_id)
    return counts_by_image(db, viewer=viewer, image_ids=[image_id])[image_id]


def counts_by_image(
    db: Session, *, viewer: Viewer, image_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Comment counts for a list of images, in one statement; 0 for an image the viewer
    may not see (as if it had none)."""
    counts: dict[uuid.UUID, int] = {image_id: 0 for image_id in image_ids}
    if image_ids:
        query = (
            select(Comment.image_id, sa.func.count())
            .join(Image, col(Image.id) == Comment.image_id)
            .where(col(Comment.image_id).in_(image_ids), *visibility.viewable(viewer))
            .group_by(col(Comment.image_id))
        )
        counts.update(db.exec(query).all())
    return counts


def get_comment(db: Session, *, viewer: Viewer, comment_id: int) -> CommentView:
    """One comment, if the viewer may see its image (how live pages learn of a new one)."""
    comment = get_by_id(db, Comment, comment_id)
    if comment is None:
        raise NotFound("That comment has been deleted.")
    image = get_visible(db, viewer=viewer, image_id=comment.image_id)
    return _view(viewer, comment, db.get_one(User, comment.author_id), image)


def add_comment(db: Session, *, viewer: Viewer, image_id: uuid.UUID, body: str) -> CommentView:
    if viewer.user_id is None:
        raise NotAllowed("Sign in to comment.")
    image = get_visible(db, viewer=viewer, image_id=image_id)
    body = clean_body(body)
    comment = Comment(image_id=image_id, author_id=viewer.user_id, body=body, created_at=utcnow())
    db.add(comment)
    db.flush()
    publish_after_commit(db, Event(image_topic(image_id), ADDED, {"comment_id": comment.id}))
    return _view(viewer, comment, db.get_one(User, viewer.user_id), image)


def delete_comment(db: Session, *, viewer: Viewer, comment_id: int) -> uuid.UUID:
    """Delete a comment; returns its image's id."""
    comment = get_by_id(db, Comment, comment_id)
    image = (
        None if comment is None else get_for_viewer(db, viewer=viewer, image_id=comment.image_id)
    )
    if comment is None or image is None:
        raise NotFound("That comment has already been deleted.")
    if not _may_delete(viewer, comment, image):
        raise NotAllowed("Only its author or the image's owner can delete this comment.")
    db.delete(comment)
    db.flush()
    publish_after_commit(db, Event(image_topic(image.id), DELETED, {"comment_id": comment_id}))
    return image.id


def clean_body(body: str) -> str:
    body = text.paragraphs(body)
    if not body:
        raise InvalidInput("Write something first: a comment cannot be empty.")
    return text.at_most(body, MAX_LENGTH, "A comment")


def _view(viewer: Viewer, comment: Comment, author: User, image: Image) -> CommentView:
    assert comment.id is not None  # a stored comment
    return CommentView(
        id=comment.id,
        image_id=comment.image_id,
        body=comment.body,
        created_at=comment.created_at,
        author=author,
        can_delete=_may_delete(viewer, comment, image),
    )
