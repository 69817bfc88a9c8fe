"""What a comment may say: imageshare.comments.service.clean_body."""

import pytest

from imageshare.comments.service import MAX_LENGTH, clean_body
from imageshare.errors import InvalidInput


@pytest.mark.parametrize(
    ("typed", "body"),
    [
        ("Nice!", "Nice!"),
        ("  Nice!  \n", "Nice!"),
        ("First\r\nsecond\n\n  third", "First\nsecond\n\n  third"),
        ("tabs\tkept", "tabs\tkept"),
        ("bell\x07 and nul\x00 dropped", "bell and nul dropped"),
        ("Schön 👍 東京", "Schön 👍 東京"),
    ],
)
def test_a_comment_keeps_its_lines_and_loses_its_edges(typed, body):
    assert clean_body(typed) == body


@pytest.mark.parametrize("typed", ["", " ", "\n\n\t \r\n", "\x00\x1b", None])
def test_an_empty_comment_is_refused(typed):
    with pytest.raises(InvalidInput, match=r"^Write something first: a comment cannot be empty\.$"):
        clean_body(typed)


def test_a_comment_of_exactly_the_maximum_length_is_kept():
    assert MAX_LENGTH == 2000
    assert clean_body("c" * MAX_LENGTH) == "c" * MAX_LENGTH
    # Measured after trimming, so surrounding blank lines do not count.
    assert clean_body(f"\n  {'c' * MAX_LENGTH}  \n") == "c" * MAX_LENGTH


def test_a_comment_one_character_too_long_is_refused_with_both_numbers():
    with pytest.raises(InvalidInput) as refusal:
        clean_body("c" * (MAX_LENGTH + 1))
    assert str(refusal.value) == "A comment can be at most 2,000 characters; this one has 2,001."
