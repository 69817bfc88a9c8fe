"""Page cursors as a client sends them back: the gallery's (imageshare.images.listing)
and the API's comment cursors and comment IDs (imageshare.graphql.types)."""

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from imageshare.errors import InvalidInput
from imageshare.graphql import errors
from imageshare.graphql.types import comment_cursor, decode_comment_cursor, parse_comment_id
from imageshare.images.listing import decode_cursor, encode_cursor

IMAGE_ID = uuid.UUID("0f8e2a52-6d0b-4c1e-9a57-3b1c2d4e5f60")
PAGE_LINK_REFUSAL = r"^That page link is not valid; start again from the first page\.$"


def image_at(created_at: datetime, image_id: uuid.UUID = IMAGE_ID) -> SimpleNamespace:
    return SimpleNamespace(created_at=created_at, id=image_id)


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
    cursor = encode_cursor(image_at(created_at))
    assert decode_cursor(cursor) == (created_at, IMAGE_ID)
    assert decode_cursor(cursor)[0].utcoffset() == created_at.utcoffset()


def test_a_cursor_is_safe_in_a_url_without_padding():
    for seconds in range(4):  # lengths that would need 0, 1 or 2 "=" otherwise
        moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=seconds)
        cursor = encode_cursor(image_at(moment, uuid.uuid4()))
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_a_cursor_whose_padding_was_put_back_still_works():
    cursor = encode_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC)))
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
    cursor = encode_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC)))
    for cut in (cursor[:-1], cursor[:-2], cursor[:-5], cursor[: len(cursor) // 2]):
        with pytest.raises(InvalidInput, match=PAGE_LINK_REFUSAL):
            decode_cursor(cut)


# -- comment IDs and cursors of the GraphQL API ------------------------------------------


@pytest.mark.parametrize(
    ("given", "number"),
    [
        ("12", 12),
        ("0", 0),
        ("007", 7),
        ("9" * 30, int("9" * 30)),  # a number still; no row has it (imageshare.db.get_by_id)
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


@pytest.mark.parametrize("comment_id", [1, 12, 123, 2**31 - 1, 2**63 - 1])
def test_a_comment_cursor_comes_back_as_its_comment_id(comment_id):
    cursor = comment_cursor(comment_id)
    assert base64.urlsafe_b64decode(cursor) == f"comment:{comment_id}".encode()
    assert decode_comment_cursor(cursor) == comment_id


def test_no_comment_cursor_means_the_first_page():
    assert decode_comment_cursor(None) is None


def comment_raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("%%%%", id="no-base64-at-all"),
        pytest.param("A", id="impossible-length"),
        # Comment cursors keep their padding; without it they are not read.
        pytest.param(comment_cursor(12).rstrip("="), id="padding-dropped"),
        pytest.param(comment_raw(b"comment:"), id="no-number"),
        pytest.param(comment_raw(b"comment:-1"), id="negative"),
        pytest.param(comment_raw("comment:²".encode()), id="superscript-two"),
        pytest.param(comment_raw(b"comment:1.5"), id="fraction"),
        pytest.param(comment_raw(b"comment:" + b"9" * 5000), id="huge-number"),
        pytest.param(comment_raw(b"image:12"), id="other-kind"),
        pytest.param(comment_raw(b"Comment:12"), id="kind-case"),
        pytest.param(comment_raw(b"12"), id="no-kind"),
        pytest.param(comment_raw(b"comment:\xff12"), id="not-utf8"),
        pytest.param(
            encode_cursor(image_at(datetime(2024, 5, 1, tzinfo=UTC))), id="a-gallery-cursor"
        ),
    ],
)
def test_a_comment_cursor_that_names_no_comment_is_refused_as_invalid_input(cursor):
    with pytest.raises(errors.ApiError) as refusal:
        decode_comment_cursor(cursor)
    assert refusal.value.message == "That comment cursor is not valid."
    assert refusal.value.code == errors.INVALID_INPUT
