"""Page cursors as a client sends them back (imageshare.paging): the gallery's and the
comments', and comment IDs as the API reads them (imageshare.graphql.types)."""

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from imageshare.comments import service as comments
from imageshare.errors import InvalidInput
from imageshare.graphql.types import parse_comment_id
from imageshare.images.listing import image_cursor
from imageshare.paging import decode_cursor as decode

IMAGE_ID = uuid.UUID("0f8e2a52-6d0b-4c1e-9a57-3b1c2d4e5f60")
PAGE_LINK_REFUSAL = r"^That page link is not valid; start again from the first page\.$"


def image_at(created_at: datetime, image_id: uuid.UUID = IMAGE_ID) -> SimpleNamespace:
    return SimpleNamespace(created_at=created_at, id=image_id)


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    return decode(cursor, uuid.UUID)


def unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2024, 5, 1, 12, 30, 1, 123456, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 30, tzinfo=UTC),  # no microseconds
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_a_cursor_names_the_same_image_and_instant_when_it_comes_back(created_at):
    cursor = image_cursor(image_at(created_at))
    assert decode_cursor(cursor) == (created_at, IMAGE_ID)
    assert decode_cursor(cursor)[0].utcoffset() == created_at.utcoffset()


def test_a_cursor_is_safe_in_a_url_without_padding():
    for seconds in range(4):  # lengths that would need 0, 1 or 2 "=" otherwise
        moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=seconds)
        cursor = image_cursor(image_at(moment, uuid.uuid4()))
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_a_cursor_whose_padding_was_put_back_still_works():
    cursor = image_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC)))
    assert decode_cursor(cursor + "=" * (-len(cursor) % 4)) == decode_cursor(cursor)


WHEN = "2024-05-01T12:30:00+00:00"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("%%%%", id="no-base64-at-all"),
        pytest.param("A", id="impossible-length"),
        pytest.param("AAAAA", id="impossible-length-5"),
        pytest.param(unpadded(b"garbage"), id="no-separator"),
        pytest.param(unpadded(f"{WHEN}|{IMAGE_ID}|x".encode()), id="two-separators"),
        pytest.param(unpadded(f"{WHEN}|".encode()), id="no-id"),
        pytest.param(unpadded(f"|{IMAGE_ID}".encode()), id="no-time"),
        pytest.param(unpadded(f"2024-05-01T12:30:00|{IMAGE_ID}".encode()), id="naive-time"),
        pytest.param(unpadded(f"yesterday|{IMAGE_ID}".encode()), id="not-a-time"),
        pytest.param(unpadded(f"2024-13-01T00:00:00+00:00|{IMAGE_ID}".encode()), id="month-13"),
        pytest.param(unpadded(f"{WHEN}|not-a-uuid".encode()), id="bad-uuid"),
        pytest.param(unpadded(f"{WHEN}|{str(IMAGE_ID)[:-1]}".encode()), id="short-uuid"),
        pytest.param(unpadded(f"{WHEN}|".encode() + b"\xff\xfe"), id="not-utf8"),
        pytest.param(unpadded(b"\xc3" + f"{WHEN}|{IMAGE_ID}".encode()), id="broken-utf8"),
    ],
)
def test_a_cursor_that_names_no_page_is_refused_with_a_sentence(cursor):
    with pytest.raises(InvalidInput, match=PAGE_LINK_REFUSAL):
        decode_cursor(cursor)


def test_a_cut_cursor_is_refused_not_misread():
    cursor = image_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC)))
    for cut in (cursor[:-1], cursor[:-2], cursor[:-5], cursor[: len(cursor) // 2]):
        with pytest.raises(InvalidInput, match=PAGE_LINK_REFUSAL):
            decode_cursor(cut)


# -- comment IDs and cursors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "number"),
    [
        ("12", 12),
        ("007", 7),
        (str(2**31 - 1), 2**31 - 1),
        ("0", None),  # no row has it
        (str(2**31), None),  # past Postgres's 32-bit keys
        ("9" * 30, None),
        ("9" * 5000, None),  # past Python's int-parsing limit: no comment either
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 12", None),
        ("12 ", None),
        ("1.0", None),
        ("1e3", None),
        ("0x10", None),
        ("²", None),  # a digit to str.isdigit, no number to a person
        ("١٢", None),  # Arabic-Indic digits
        ("１２", None),  # full-width digits
        ("twelve", None),
    ],
)
def test_a_comment_id_is_a_plain_ascii_number_or_none(given, number):
    assert parse_comment_id(given) == number


def comment_at(created_at: datetime, comment_id: int) -> SimpleNamespace:
    return SimpleNamespace(created_at=created_at, id=comment_id)


@pytest.mark.parametrize("comment_id", [1, 12, 123, 2**31 - 1])
def test_a_comment_cursor_comes_back_as_its_instant_and_id(comment_id):
    when = datetime(2024, 5, 1, 12, 30, 1, 5, tzinfo=UTC)
    cursor = comments.cursor_of(comment_at(when, comment_id))
    assert decode(cursor, comments.parse_id) == (when, comment_id)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(unpadded(f"{WHEN}|-1".encode()), id="negative"),
        pytest.param(unpadded(f"{WHEN}|²".encode()), id="superscript-two"),
        pytest.param(unpadded(f"{WHEN}|1.5".encode()), id="fraction"),
        pytest.param(unpadded(f"{WHEN}|".encode() + b"9" * 5000), id="huge-number"),
        pytest.param(unpadded(f"{WHEN}|{2**31}".encode()), id="past-32-bits"),
        pytest.param(unpadded(b"comment:12"), id="the-old-comment-cursor"),
        pytest.param(
            image_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC))), id="an-image-cursor"
        ),
    ],
)
def test_a_comment_cursor_that_names_no_comment_is_refused_with_a_sentence(cursor):
    with pytest.raises(InvalidInput, match=PAGE_LINK_REFUSAL):
        decode(cursor, comments.parse_id)
