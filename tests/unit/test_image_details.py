"""What an uploader says about an image: ImageDetails.clean and clean_title
(imageshare.images.service), with the text rules of imageshare/text.py."""

import pytest

from imageshare.errors import InvalidInput
from imageshare.images.kinds import Visibility
from imageshare.images.service import (
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_TITLE,
    ImageDetails,
    clean_title,
)


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("Sunset", "Sunset"),
        ("  Sunset  ", "Sunset"),
        ("Sunset\nover\r\nthe   bay", "Sunset over the bay"),
        ("\tTabs\tand\u00a0spaces ", "Tabs and spaces"),
        ("Zoë’s 東京 🌅", "Zoë’s 東京 🌅"),
        ("x" * MAX_TITLE, "x" * MAX_TITLE),
        # Whitespace folded first: a long title of spaces may still fit.
        ("a" + " " * 500 + "b", "a b"),
    ],
)
def test_a_title_is_one_trimmed_line(typed, title):
    assert clean_title(typed) == title
    assert ImageDetails.clean(title=typed).title == title


@pytest.mark.parametrize("typed", ["", "   ", "\n\t \r\n", "\x00\x1b", None])
def test_a_title_is_required(typed):
    with pytest.raises(InvalidInput, match=r"^A title is required\.$"):
        ImageDetails.clean(title=typed)


def test_a_title_one_character_too_long_is_refused():
    assert MAX_TITLE == 200
    with pytest.raises(
        InvalidInput, match=r"^The title can be at most 200 characters; this one has 201\.$"
    ):
        clean_title("x" * (MAX_TITLE + 1))


def test_with_title_keeps_the_rest_and_checks_the_new_title():
    details = ImageDetails.clean(title="One", tags="sea", visibility="private")
    renamed = details.with_title("  Two\n ")
    assert renamed == ImageDetails("Two", "", "", ("sea",), Visibility.PRIVATE)
    with pytest.raises(InvalidInput, match="title is required"):
        details.with_title(" ")


def test_a_description_keeps_its_paragraphs_and_may_be_exactly_the_maximum():
    details = ImageDetails.clean(title="t", description="  First line\r\n\n  second  ")
    assert details.description == "First line\n\n  second"
    assert MAX_DESCRIPTION == 5000
    full = ImageDetails.clean(title="t", description="d" * MAX_DESCRIPTION)
    assert full.description == "d" * MAX_DESCRIPTION
    # Trimmed before it is measured.
    padded = ImageDetails.clean(title="t", description=f"  {'d' * MAX_DESCRIPTION}\n ")
    assert len(padded.description) == MAX_DESCRIPTION


def test_a_description_one_character_too_long_is_refused():
    with pytest.raises(
        InvalidInput,
        match=r"^The description can be at most 5,000 characters; this one has 5,001\.$",
    ):
        ImageDetails.clean(title="t", description="d" * (MAX_DESCRIPTION + 1))


def test_a_location_is_one_line_and_may_be_exactly_the_maximum():
    assert ImageDetails.clean(title="t", location=" Lisbon,\n Portugal ").location == (
        "Lisbon, Portugal"
    )
    assert MAX_LOCATION == 200
    assert ImageDetails.clean(title="t", location="l" * MAX_LOCATION).location == "l" * 200
    with pytest.raises(
        InvalidInput, match=r"^The location can be at most 200 characters; this one has 201\.$"
    ):
        ImageDetails.clean(title="t", location="l" * (MAX_LOCATION + 1))


def test_empty_details_default_to_public_with_nothing_else():
    assert ImageDetails.clean(title="t") == ImageDetails("t", "", "", (), Visibility.PUBLIC)


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("public", Visibility.PUBLIC),
        ("PUBLIC", Visibility.PUBLIC),
        (" Unlisted ", Visibility.UNLISTED),
        ("private\n", Visibility.PRIVATE),
        (Visibility.PRIVATE, Visibility.PRIVATE),
    ],
)
def test_visibility_is_read_whatever_its_case_and_spaces(typed, chosen):
    assert ImageDetails.clean(title="t", visibility=typed).visibility is chosen


@pytest.mark.parametrize("typed", ["", "secret", "pub lic", "publicly", "friends", None, 1])
def test_any_other_visibility_is_refused_with_the_choices(typed):
    with pytest.raises(InvalidInput, match=r"^Visibility must be public, unlisted or private\.$"):
        ImageDetails.clean(title="t", visibility=typed)


def test_the_title_is_checked_before_the_rest():
    # One sentence at a time, the first thing wrong on the form first.
    with pytest.raises(InvalidInput, match="title is required"):
        ImageDetails.clean(title="", description="d" * 9999, visibility="nope", tags="x" * 99)


def test_tags_are_normalised_and_their_refusal_comes_through():
    assert ImageDetails.clean(title="t", tags="#Sea, sky, SEA").tags == ("sea", "sky")
    with pytest.raises(InvalidInput, match="at most 10 tags, not 11"):
        ImageDetails.clean(title="t", tags=[str(n) for n in range(11)])
