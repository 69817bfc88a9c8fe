"""Names the app derives: usernames from sign-in claims (imageshare.users.service),
storage keys of originals and renditions, and which rendition a page shows
(imageshare.images.keys and .service)."""

import uuid

import pytest

from imageshare.images.keys import image_id_of_rendition, original_key, rendition_key
from imageshare.images.kinds import RenditionName
from imageshare.images.service import best_rendition
from imageshare.users import service as users
from imageshare.users.service import USERNAME_MAX, slugify

IMAGE_ID = uuid.UUID("0f8e2a52-6d0b-4c1e-9a57-3b1c2d4e5f60")
THUMB, MEDIUM, LARGE = RenditionName.THUMB, RenditionName.MEDIUM, RenditionName.LARGE


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("Zoë Müller", "zoe-muller"),  # accents dropped, not the letters
        ("O'Brien", "o-brien"),
        ("a.b+c@d", "a-b-c-d"),  # every run of other characters is one dash
        ("snake_case-ok", "snake_case-ok"),
        ("  --Bob__ ", "bob"),  # no dash or underscore at either end
        ("ﬁsh", "fish"),  # compatibility forms become their letters
        ("a\x00b", "a-b"),
        ("日本語", ""),  # nothing ASCII left: the caller names them "user"
        ("__--__", ""),
        ("", ""),
    ],
)
def test_a_username_is_a_lower_case_ascii_slug(name, slug):
    assert slugify(name) == slug


def test_a_username_is_cut_to_the_maximum_without_a_dangling_dash():
    assert USERNAME_MAX == 30
    assert slugify("x" * USERNAME_MAX) == "x" * 30
    assert slugify("x" * (USERNAME_MAX + 1)) == "x" * 30
    assert slugify("x" * 29 + " y") == "x" * 29  # cut at the dash, which is then dropped


@pytest.mark.parametrize(
    ("claims", "source"),
    [
        ({"sub": "auth0|1", "nickname": "Ali", "email": "alice@example.com"}, "Ali"),
        ({"sub": "auth0|1", "nickname": "  ", "email": "alice@example.com"}, "alice"),
        ({"sub": "auth0|1", "email": "first.last+tag@example.com"}, "first.last+tag"),
        ({"sub": "AbC123@clients"}, "AbC123"),  # an Auth0 machine-to-machine client
        ({"sub": "auth0|1"}, ""),
        ({"sub": "auth0|1", "nickname": None, "email": None}, ""),
    ],
)
def test_the_username_comes_from_nickname_then_email_then_client_id(claims, source):
    assert users._username_source(claims) == source


@pytest.mark.parametrize(
    ("claims", "display_name"),
    [
        ({"name": "Alice Liddell", "nickname": "ali"}, "Alice Liddell"),
        # Auth0 puts the email in `name` when it knows no better: the nickname is shown.
        ({"name": "alice@example.com", "nickname": "ali"}, "ali"),
        ({"name": "alice@example.com", "email": "alice@example.com"}, "alice"),
        ({"name": "  ", "nickname": "  "}, "Someone"),
        ({}, "Someone"),
        ({"name": "n" * 150}, "n" * 100),
    ],
)
def test_the_display_name_never_shows_an_email(claims, display_name):
    assert users._display_name(claims) == display_name


@pytest.mark.parametrize(
    ("picture", "avatar"),
    [
        ("https://cdn.example.com/a.png", "https://cdn.example.com/a.png"),
        (" https://cdn.example.com/a.png ", "https://cdn.example.com/a.png"),
        ("http://cdn.example.com/a.png", None),  # never mixed content
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("", None),
        (None, None),
    ],
)
def test_only_an_https_picture_becomes_an_avatar(picture, avatar):
    assert users._avatar_url({"picture": picture}) == avatar


def test_an_avatar_url_is_cut_at_1000_characters():
    long = "https://cdn.example.com/" + "p" * 2000
    assert users._avatar_url({"picture": long}) == long[:1000]


def test_originals_and_renditions_have_their_own_keys():
    assert original_key(IMAGE_ID) == f"originals/{IMAGE_ID}"
    assert rendition_key(IMAGE_ID, THUMB) == f"renditions/{IMAGE_ID}/thumb.webp"
    assert rendition_key(IMAGE_ID, LARGE) == f"renditions/{IMAGE_ID}/large.webp"


@pytest.mark.parametrize("name", list(RenditionName))
def test_a_rendition_key_leads_back_to_its_image(name):
    assert image_id_of_rendition(rendition_key(IMAGE_ID, name)) == IMAGE_ID


@pytest.mark.parametrize(
    "key",
    [
        original_key(IMAGE_ID),
        f"renditions/{IMAGE_ID}/huge.webp",
        f"renditions/{IMAGE_ID}/thumb.png",
        f"renditions/{IMAGE_ID}/thumb.webp.bak",
        f"renditions/{IMAGE_ID}/../thumb.webp",
        f"/renditions/{IMAGE_ID}/thumb.webp",
        f"renditions/{IMAGE_ID}",
        f"renditions/{str(IMAGE_ID).upper()}/thumb.webp",  # keys are written lower-case
        f"renditions/{str(IMAGE_ID)[:-1]}/thumb.webp",
        "renditions/not-a-uuid-but-thirty-six-characters/thumb.webp",
        # Thirty-six hex digits and dashes, but no UUID (or not as one is written).
        f"renditions/{'-' * 36}/thumb.webp",
        f"renditions/{'a' * 36}/thumb.webp",
        f"renditions/{'0' * 32}----/thumb.webp",
        "",
    ],
)
def test_any_other_key_belongs_to_no_rendition(key):
    assert image_id_of_rendition(key) is None


@pytest.mark.parametrize(
    ("has", "asked", "shown"),
    [
        ({THUMB, MEDIUM, LARGE}, LARGE, LARGE),
        ({THUMB, MEDIUM, LARGE}, MEDIUM, MEDIUM),
        ({THUMB, MEDIUM, LARGE}, THUMB, THUMB),
        # A source too small for large: its medium is its largest.
        ({THUMB, MEDIUM}, LARGE, MEDIUM),
        ({THUMB}, LARGE, THUMB),
        ({THUMB}, MEDIUM, THUMB),
        # Never a larger one than asked for (a thumbnail grid stays light).
        ({MEDIUM, LARGE}, THUMB, None),
        ({LARGE}, MEDIUM, None),
        (set(), LARGE, None),
    ],
)
def test_the_best_rendition_is_the_one_asked_for_or_the_largest_smaller(has, asked, shown):
    renditions = {name: f"rendition {name}" for name in has}
    expected = None if shown is None else f"rendition {shown}"
    assert best_rendition(renditions, asked) == expected
