"""Tags as a person types them (imageshare.images.service.normalise_tags) and the tag,
uploader and search filters of the gallery (imageshare.images.listing.Filters.clean)."""

import pytest

from imageshare.errors import InvalidInput
from imageshare.images.listing import Filters
from imageshare.images.service import MAX_TAG_LENGTH, MAX_TAGS, normalise_tags


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("", ()),
        ("sea", ("sea",)),
        ("sea, sky,  harbour ", ("sea", "sky", "harbour")),
        (["sea", " sky "], ("sea", "sky")),
        (("Sea", "SKY"), ("sea", "sky")),
        ("#sea, ##sky", ("sea", "sky")),
        # A space after the hash is no part of the tag.
        ("# sea, #  sky", ("sea", "sky")),
        ("#", ()),
        # Duplicates, whatever their case or hash, count once; first one's order kept.
        ("sky, sea, SKY, #sea, sea", ("sky", "sea")),
        (",, sea ,,, ,", ("sea",)),
        (["", "  ", "sea"], ("sea",)),
        # Whitespace inside a tag is folded to one space, never split on.
        ("golden   hour,\tblue\nhour", ("golden hour", "blue hour")),
        # A list item is one tag even with a comma in it (only text is split).
        (["a,b"], ("a,b",)),
        ("Café, ÉTÉ, 東京, Ωmega", ("café", "été", "東京", "ωmega")),
        ("sea\x00side", ("seaside",)),
    ],
)
def test_tags_are_trimmed_lower_cased_unique_and_in_order(typed, tags):
    assert normalise_tags(typed) == tags


def test_a_tag_of_exactly_the_maximum_length_is_kept():
    tag = "a" * MAX_TAG_LENGTH
    assert MAX_TAG_LENGTH == 50
    assert normalise_tags(f"#{tag.upper()}") == (tag,)  # the hash is not counted


@pytest.mark.parametrize("long_tag", ["a" * (MAX_TAG_LENGTH + 1), "é" * (MAX_TAG_LENGTH + 1)])
def test_a_tag_one_character_too_long_is_refused_naming_it(long_tag):
    with pytest.raises(InvalidInput) as refusal:
        normalise_tags(f"sea, {long_tag}")
    message = str(refusal.value)
    assert message == f"The tag “{long_tag[:20]}…” can be at most 50 characters; this one has 51."


def test_ten_tags_pass_and_eleven_are_refused_with_the_count():
    ten = [f"t{n}" for n in range(MAX_TAGS)]
    assert MAX_TAGS == 10
    assert normalise_tags(ten) == tuple(ten)
    with pytest.raises(InvalidInput) as refusal:
        normalise_tags(",".join([*ten, "one-more"]))
    assert str(refusal.value) == "An image can have at most 10 tags, not 11."


def test_duplicates_and_empty_parts_do_not_count_towards_the_limit():
    ten = [f"t{n}" for n in range(MAX_TAGS)]
    typed = ", ,".join(ten + [tag.upper() for tag in ten] + ["#t0", ""])
    assert normalise_tags(typed) == tuple(ten)


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ({}, Filters()),
        ({"tag": "#Sea"}, Filters(tag="sea")),
        ({"tag": "  ##SEA  "}, Filters(tag="sea")),
        ({"tag": "# sea"}, Filters(tag="sea")),  # as normalise_tags stores it
        ({"tag": "Golden   Hour"}, Filters(tag="golden hour")),
        ({"uploader": " Alice "}, Filters(uploader="alice")),
        ({"location": "  Lisbon\n Portugal "}, Filters(location="Lisbon Portugal")),
        ({"search": "  red   boat "}, Filters(search="red boat")),
    ],
)
def test_filters_are_cleaned_as_tags_and_names_are_stored(given, cleaned):
    assert Filters.clean(**given) == cleaned


def test_the_gallery_finds_a_tag_typed_as_it_was_stored():
    for typed in ("#Sea", "SEA", " # sea"):
        assert Filters.clean(tag=typed).tag == normalise_tags(typed)[0]


def test_a_search_is_cut_at_200_characters_after_folding_whitespace():
    assert Filters.clean(search="x" * 200).search == "x" * 200
    assert Filters.clean(search="x" * 201).search == "x" * 200
    folded = Filters.clean(search="   " + "y    " * 150).search
    assert len(folded) == 200 and folded.split() == ["y"] * 100
