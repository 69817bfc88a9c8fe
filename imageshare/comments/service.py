"""The rules about comments: who may read, write and delete them, and their pages.

Anyone who may see an image may read its comments; signed-in people who may see it
may add one; authors delete their own, and an image's owner deletes any on it.
Additions and deletions are announced as events on the image's topic after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.viewer import Viewer
from imageshare.comments.models import Comment
from imageshare.db import get_by_id, utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.events import Event, image_topic, publish_after_commit
from imageshare.images.models import Image
from imageshare.images.service import get_for_viewer, get_visible
from imageshare.users.models import User

MAX_LENGTH = 2000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

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


@dataclass(frozen=True)
class CommentPage:
    items: list[CommentView]
    # The cursor for the next (later) comments; None at the end.
    after: int | None = None


def _may_delete(viewer: Viewer, comment: Comment, image: Image) -> bool:
    if viewer.is_anonymous:
        return False
    return viewer.user_id in (comment.author_id, image.owner_id)


def list_comments(
    db: Session,
    *,
    viewer: Viewer,
    image_id: uuid.UUID,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> CommentPage:
    """Oldest first, a page at a time; `after` is the last comment id already shown."""
    image = get_visible(db, viewer=viewer, image_id=image_id)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = (
        select(Comment, User)
        .join(User, col(User.id) == Comment.author_id)
        .where(Comment.image_id == image_id)
        .order_by(col(Comment.created_at), col(Comment.id))
    )
    if after is not None:
        anchor = get_by_id(db, Comment, after)
        if anchor is None or anchor.image_id != image_id:
            raise InvalidInput("That comment page link is not valid.")
        edge = sa.tuple_(Comment.created_at, Comment.id)
        query = query.where(edge > sa.tuple_(anchor.created_at, anchor.id))
    rows = list(db.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    items = [_view(viewer, comment, author, image) for comment, author in rows[:limit]]
    return CommentPage(items=items, after=items[-1].id if more else None)


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
    if len(body) > MAX_LENGTH:
        raise InvalidInput(
            f"A comment can be at most {MAX_LENGTH:,} characters; this one has {len(body):,}."
        )
    return body


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
