"""Lists of images: the gallery (with its filters) and a person's images, newest first.

Keyset pagination: a page is "the 24 images just older (or newer) than this one", found
through the index on (…, created_at, id), so page 4,000 costs what page 1 costs. A
cursor names the image at a page's edge; it is opaque to clients and safe in a URL.

A page costs two statements whatever its size: images with their owners, then the
renditions of those images (three with a tag filter: the tag is looked up first).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.viewer import Viewer
from imageshare.errors import InvalidInput, NotFound
from imageshare.images import detail, search
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.users.models import User

PAGE_SIZE = 24
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """What the gallery is narrowed to; every field optional, all of them combine."""

    tag: str = ""
    location: str = ""
    uploader: str = ""
    search: str = ""

    @classmethod
    def clean(
        cls, *, tag: str = "", location: str = "", uploader: str = "", search: str = ""
    ) -> Filters:
        return cls(
            tag=text.one_line(tag).lower().lstrip("#"),
            location=text.one_line(location),
            uploader=text.one_line(uploader).lower(),
            search=text.one_line(search)[:200],
        )

    @property
    def active(self) -> bool:
        return bool(self.tag or self.location or self.uploader or self.search)


@dataclass(frozen=True)
class Listed:
    """One image in a list, with what a card shows: owner and renditions."""

    image: Image
    owner: User
    renditions: dict[RenditionName, Rendition] = field(default_factory=dict)


@dataclass(frozen=True)
class ImagePage:
    items: list[Listed]
    # Cursors for the neighbouring pages; None when there is none that way.
    newer: str | None = None
    older: str | None = None


def encode_cursor(image: Image) -> str:
    raw = f"{image.created_at.isoformat()}|{image.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, image_id = base64.urlsafe_b64decode(padded).decode().split("|")
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive timestamp")
        return when, uuid.UUID(image_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "That page link is not valid; start again from the first page."
        ) from None


def gallery(
    db: Session,
    *,
    viewer: Viewer,
    filters: Filters = Filters(),
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> ImagePage:
    """Public, ready images, newest first, narrowed by `filters`.

    `viewer` does not change what is listed (the gallery is the same for everyone);
    it is asked for so every listing says who is looking.
    """
    del viewer
    conditions = _listed()
    if filters.tag:
        # The tag's id as a value, looked up first: with it Postgres uses that tag's own
        # statistics and picks the right plan for a rare tag and a common one alike
        # (bench/gallery.py: a tag on a fifth of the images went from ~95 ms to ~1 ms).
        tag_id = db.exec(select(Tag.id).where(Tag.name == filters.tag)).first()
        if tag_id is None:
            return ImagePage(items=[])
        tagged = select(ImageTag.image_id).where(ImageTag.tag_id == tag_id)
        conditions.append(col(Image.id).in_(tagged))
    if filters.location:
        conditions.append(sa.func.lower(Image.location) == filters.location.lower())
    if filters.uploader:
        conditions.append(col(User.username) == filters.uploader)
    words = search.words_of(filters.search)
    if words:
        # SQLModel sets __table__ on each table model; its class does not declare it.
        table = Image.__table__  # type: ignore[attr-defined]
        conditions.append(search.matches(table, words, db.get_bind().dialect.name))
    return _page(db, conditions, after=after, before=before, limit=limit)


def of_owner(
    db: Session,
    *,
    viewer: Viewer,
    owner: User,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> ImagePage:
    """A person's images: all of them (any status but deleting) for that person;
    public, ready ones for everyone else."""
    conditions = [col(Image.owner_id) == owner.id]
    conditions += _visible_on_profile(viewer, owner)
    return _page(db, conditions, after=after, before=before, limit=limit)


def count_of_owner(db: Session, *, viewer: Viewer, owner: User) -> int:
    conditions = [col(Image.owner_id) == owner.id, *_visible_on_profile(viewer, owner)]
    return db.exec(select(sa.func.count()).select_from(Image).where(*conditions)).one()


def _listed() -> list[ColumnElement[bool]]:
    """What appears in lists for everyone: public images that are ready (DESIGN.md);
    the SQL form of images.service.is_listed."""
    return [col(Image.visibility) == Visibility.PUBLIC, col(Image.status) == Status.READY]


def _visible_on_profile(viewer: Viewer, owner: User) -> list[ColumnElement[bool]]:
    if is_own_profile(viewer, owner):
        return [col(Image.status) != Status.DELETING]
    return _listed()


def is_own_profile(viewer: Viewer, owner: User) -> bool:
    """The owner sees (and manages) everything on their profile."""
    return viewer.user_id is not None and viewer.user_id == owner.id


@dataclass(frozen=True)
class TagCount:
    name: str
    image_count: int


def tags_in_use(
    db: Session, *, viewer: Viewer, prefix: str = "", limit: int = PAGE_SIZE
) -> list[TagCount]:
    """Tags of the gallery's images, most used first, optionally starting with `prefix`.

    Counted over listed images only: a tag used only on private or unlisted images is
    nobody else's business, so it does not appear at all.
    """
    del viewer  # the same for everyone, like the gallery
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    count = sa.func.count(col(ImageTag.image_id))
    query = (
        select(Tag.name, count)
        .join(ImageTag, col(ImageTag.tag_id) == Tag.id)
        .join(Image, col(Image.id) == ImageTag.image_id)
        .where(*_listed())
        .group_by(Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
    )
    prefix = Filters.clean(tag=prefix).tag
    if prefix:
        # Literally: `%` and `_` in a prefix are characters, as search.py treats words.
        query = query.where(col(Tag.name).startswith(prefix, autoescape=True))
    return [TagCount(name, image_count) for name, image_count in db.exec(query).all()]


def owner_by_username(db: Session, *, username: str) -> User:
    user = db.exec(select(User).where(User.username == text.one_line(username).lower())).first()
    if user is None:
        raise NotFound("There is no one with that name here.")
    return user


def _page(
    db: Session,
    conditions: list[ColumnElement[bool]],
    *,
    after: str | None,
    before: str | None,
    limit: int,
) -> ImagePage:
    if after and before:
        raise InvalidInput("Ask for the page after a cursor or before one, not both.")
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    edge = sa.tuple_(Image.created_at, Image.id)
    query = select(Image, User).join(User, col(User.id) == Image.owner_id).where(*conditions)
    if before:
        # Newer images: walk the index upwards, then put the page back in order.
        query = query.where(edge > sa.tuple_(*decode_cursor(before)))
        query = query.order_by(col(Image.created_at).asc(), col(Image.id).asc())
    else:
        if after:
            query = query.where(edge < sa.tuple_(*decode_cursor(after)))
        query = query.order_by(col(Image.created_at).desc(), col(Image.id).desc())
    rows = list(db.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if before:
        rows.reverse()
    items = _with_renditions(db, rows)
    if not items:
        return ImagePage(items=[])
    if before:
        # Came back from an older page: there is one; newer ones only if rows were left.
        has_newer, has_older = more, True
    else:
        has_newer, has_older = bool(after), more
    return ImagePage(
        items=items,
        newer=encode_cursor(items[0].image) if has_newer else None,
        older=encode_cursor(items[-1].image) if has_older else None,
    )


def _with_renditions(db: Session, rows: Sequence[tuple[Image, User]]) -> list[Listed]:
    if not rows:
        return []
    renditions = detail.renditions_by_image(db, image_ids=[image.id for image, _ in rows])
    return [Listed(image, owner, renditions.get(image.id, {})) for image, owner in rows]
