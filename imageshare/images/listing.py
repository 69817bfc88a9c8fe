"""Lists of images: the gallery (with its filters) and a person's images, newest first.

Keyset pages (imageshare/paging.py), newest first: `after` a cursor is older,
`before` it is newer.

A page costs two statements whatever its size: images with their owners, then the
renditions of those images (three with a tag filter: the tag is looked up first).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.viewer import Viewer
from imageshare.images import records, search, visibility
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Image, ImageTag, Rendition, Tag
from imageshare.paging import Order, Page, check_limit, encode_cursor, fetch_page
from imageshare.users.models import User

PAGE_SIZE = 24
# Characters of a search kept (the search box takes no more).
MAX_SEARCH = 200


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
            tag=text.one_line(tag).lower().lstrip("# "),
            location=text.one_line(location),
            uploader=text.one_line(uploader).lower(),
            search=text.one_line(search)[:MAX_SEARCH],
        )


@dataclass(frozen=True)
class Listed:
    """One image in a list, with what a card shows: owner and renditions."""

    image: Image
    owner: User
    renditions: dict[RenditionName, Rendition] = field(default_factory=dict)


ImagePage = Page[Listed]

# Newest first, through the indexes on (…, created_at, id).
NEWEST_FIRST = Order(col(Image.created_at), col(Image.id), parse_id=uuid.UUID, newest_first=True)


def image_cursor(image: Image) -> str:
    """The cursor of the page edge at `image` (for a caller's own page links)."""
    return encode_cursor(image.created_at, image.id)


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
    check_limit(limit)  # refused before any look-up, as every page is
    conditions = visibility.listed()
    if filters.tag:
        # The tag's id as a value, looked up first: with it Postgres uses that tag's own
        # statistics and picks the right plan for a rare tag and a common one alike
        # (bench/gallery.py: a tag on a fifth of the images went from ~95 ms to ~1 ms).
        tag_id = db.exec(select(Tag.id).where(Tag.name == filters.tag)).first()
        if tag_id is None:
            return Page()
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
    assert owner.id is not None  # a stored person
    conditions = visibility.shown_on_profile(viewer, owner.id)
    return _page(db, conditions, after=after, before=before, limit=limit)


def count_of_owner(db: Session, *, viewer: Viewer, owner: User) -> int:
    assert owner.id is not None  # a stored person
    conditions = visibility.shown_on_profile(viewer, owner.id)
    return db.exec(select(sa.func.count()).select_from(Image).where(*conditions)).one()


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
    limit = check_limit(limit)
    count = sa.func.count(col(ImageTag.image_id))
    query = (
        select(Tag.name, count)
        .join(ImageTag, col(ImageTag.tag_id) == Tag.id)
        .join(Image, col(Image.id) == ImageTag.image_id)
        .where(*visibility.listed())
        .group_by(Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
    )
    prefix = Filters.clean(tag=prefix).tag
    if prefix:
        # Literally: `%` and `_` in a prefix are characters, as search.py treats words.
        query = query.where(col(Tag.name).startswith(prefix, autoescape=True))
    return [TagCount(name, image_count) for name, image_count in db.exec(query).all()]


def _page(
    db: Session,
    conditions: list[ColumnElement[bool]],
    *,
    after: str | None,
    before: str | None,
    limit: int,
) -> ImagePage:
    query = select(Image, User).join(User, col(User.id) == Image.owner_id).where(*conditions)
    page: Page[tuple[Image, User]] = fetch_page(
        db,
        query,
        order=NEWEST_FIRST,
        edge=lambda row: (row[0].created_at, row[0].id),
        after=after,
        before=before,
        limit=limit,
    )
    return page.map(lambda rows: _with_renditions(db, rows))


def _with_renditions(db: Session, rows: Sequence[tuple[Image, User]]) -> list[Listed]:
    if not rows:
        return []
    renditions = records.renditions_by_image(db, image_ids=[image.id for image, _ in rows])
    return [Listed(image, owner, renditions.get(image.id, {})) for image, owner in rows]
