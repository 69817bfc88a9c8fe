"""One page shape and one cursor for every list (imageshare/paging.py)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from imageshare.comments.service import parse_id as comment_id
from imageshare.errors import InvalidInput
from imageshare.paging import MAX_PAGE_SIZE, Page, check_limit, decode_cursor, encode_cursor

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "row_id", "parse"),
    [
        (WHEN, uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.UUID),
        (WHEN.astimezone(timezone(timedelta(hours=-5))), 42, comment_id),
        (WHEN, 2**31 - 1, comment_id),
    ],
)
def test_a_cursor_comes_back_as_the_time_and_id_it_was_made_from(when, row_id, parse):
    cursor = encode_cursor(when, row_id)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # safe in a URL
    assert decode_cursor(cursor, parse) == (when, row_id)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "not a cursor",
        _raw("2026-03-04T05:06:07"),  # no id at all
        _raw("2026-03-04T05:06:07|42"),  # a time without its zone
        _raw("yesterday|42"),
        _raw("2026-03-04T05:06:07+00:00|42|7"),
        _raw(f"2026-03-04T05:06:07+00:00|{2**31}"),  # past Postgres's 32-bit keys
        _raw("2026-03-04T05:06:07+00:00|-1"),
        _raw("2026-03-04T05:06:07+00:00|\u00b2"),  # a digit to str.isdigit, not a number
        base64.urlsafe_b64encode(b"\xff\xfe|42").decode(),  # not UTF-8
        "comment:12",  # the old comment cursors
    ],
)
def test_a_broken_cursor_is_refused_with_a_sentence(cursor):
    with pytest.raises(InvalidInput, match="That page link is not valid"):
        decode_cursor(cursor, comment_id)


def test_an_image_cursor_needs_an_image_id():
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor(WHEN, 42), uuid.UUID)


@pytest.mark.parametrize("limit", [1, 24, MAX_PAGE_SIZE])
def test_a_page_size_in_range_is_taken_as_asked(limit):
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, 10**9])
def test_a_page_size_out_of_range_is_refused_not_cut(limit):
    with pytest.raises(InvalidInput, match=f"between 1 and {MAX_PAGE_SIZE} items a page"):
        check_limit(limit)


def test_a_page_converts_its_items_and_keeps_its_neighbours():
    page = Page(items=[1, 2, 3], before="b", after="a")
    doubled = page.map(lambda items: [n * 2 for n in items])
    assert (doubled.items, doubled.before, doubled.after) == ([2, 4, 6], "b", "a")
    assert Page().items == [] and Page().before is None and Page().after is None
