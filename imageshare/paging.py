"""Keyset pages, one shape for every list (the gallery, a person's images, comments).

A page is "the next `limit` rows after (or before) this one" in the list's order of
(created_at, id), found through an index on those columns, so page 4,000 costs what
page 1 costs. A cursor names the row at a page's edge; it is opaque to clients and
safe in a URL, and it stays valid when that row is deleted (nothing is looked up).

The services take `limit` and refuse one out of range: pages and the API say the
same thing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from imageshare.errors import InvalidInput

MAX_PAGE_SIZE = 100

T = TypeVar("T")
R = TypeVar("R")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. `before` and `after` are the cursors of the neighbouring
    pages in the list's own order (for the gallery, before = newer and after = older);
    None when there is nothing that way."""

    items: list[T] = field(default_factory=list)
    before: str | None = None
    after: str | None = None

    def map(self, convert: Callable[[list[T]], list[U]]) -> Page[U]:
        """The same page with its items converted (all at once, for batch look-ups)."""
        return Page(items=convert(self.items), before=self.before, after=self.after)


def check_limit(limit: int, *, maximum: int = MAX_PAGE_SIZE) -> int:
    """The page size asked for, or InvalidInput: out of range is refused, not cut."""
    if not 1 <= limit <= maximum:
        raise InvalidInput(f"Ask for between 1 and {maximum} items a page; {limit} is not.")
    return limit


def encode_cursor(created_at: datetime, row_id: object) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parse_id: Callable[[str], Any]) -> tuple[datetime, Any]:
    """(created_at, id) from a cursor; `parse_id` turns the id's text into its type and
    raises ValueError for text that is no id."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = base64.urlsafe_b64decode(padded).decode().split("|")
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive timestamp")
        return when, parse_id(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "That page link is not valid; start again from the first page."
        ) from None


@dataclass(frozen=True)
class Order:
    """How a list is ordered: its (created_at, id) columns, the type of its ids, and
    which way it runs. The columns are given through sqlmodel's col(): to a type
    checker a model's field is its Python value, col() gives the column."""

    created_at: Mapped[datetime]
    id: Mapped[Any]
    parse_id: Callable[[str], Any]
    newest_first: bool


def fetch_page(
    db: Session,
    query: SelectOfScalar[Any] | Any,
    *,
    order: Order,
    edge: Callable[[R], tuple[datetime, object]],
    after: str | None,
    before: str | None,
    limit: int,
) -> Page[R]:
    """The page of `query`'s rows after (or before) a cursor. `edge` gives a row's
    (created_at, id)."""
    if after and before:
        raise InvalidInput("Ask for the page after a cursor or before one, not both.")
    limit = check_limit(limit)
    key = sa.tuple_(order.created_at, order.id)
    onward = (order.created_at.desc(), order.id.desc())
    backward = (order.created_at.asc(), order.id.asc())
    if not order.newest_first:
        onward, backward = backward, onward
    if before:
        # Walk the index the other way from the cursor, then put the page back in order.
        anchor = sa.tuple_(*decode_cursor(before, order.parse_id))
        query = query.where(key > anchor if order.newest_first else key < anchor)
        query = query.order_by(*backward)
    else:
        if after:
            anchor = sa.tuple_(*decode_cursor(after, order.parse_id))
            query = query.where(key < anchor if order.newest_first else key > anchor)
        query = query.order_by(*onward)
    rows: Sequence[R] = list(db.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = list(rows[:limit])
    if not rows:
        return Page()
    if before:
        rows.reverse()
        # Came back from a later page: there is one; earlier ones only if rows were left.
        has_before, has_after = more, True
    else:
        has_before, has_after = bool(after), more
    return Page(
        items=rows,
        before=encode_cursor(*edge(rows[0])) if has_before else None,
        after=encode_cursor(*edge(rows[-1])) if has_after else None,
    )
