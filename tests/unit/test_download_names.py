"""Download file names in Content-Disposition (RFC 6266 / 5987): whatever the title, the
header is one line of ASCII, its quoted `filename` is well formed, and `filename*`
carries the exact name."""

import re
from urllib.parse import unquote

import pytest

from imageshare.storage import LocalStorage, attachment

TITLES = {
    "plain": ("p.jpg", "p.jpg"),
    "backslash at the end": ("back\\", "back\\"),
    "quotes": ('say "hi".jpg', 'say "hi".jpg'),
    "newline": ("line\nbreak.jpg", "line_break.jpg"),
    "slash": ("a/b.jpg", "a/b.jpg"),
    "carriage return and header": ("x\r\nSet-Cookie: a=b.jpg", "x__Set-Cookie: a=b.jpg"),
    "non-ASCII": ("Café ☕ 東京.jpg", "Café ☕ 東京.jpg"),
    "percent": ("100%.jpg", "100%.jpg"),
    "only non-ASCII": ("☕☕", "☕☕"),
}
# The whole header: a disposition type, a quoted-string filename (no raw " or \ inside,
# so no escapes are needed) and an ext-value of attr-chars and %XX.
SHAPE = re.compile(
    r"attachment; filename=\"(?P<fallback>[\x20-\x7e]*)\"; "
    r"filename\*=UTF-8''(?P<exact>(?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-F]{2})+)"
)


@pytest.mark.parametrize(("title", "saved"), TITLES.values(), ids=TITLES.keys())
def test_every_title_gives_a_well_formed_header(title, saved):
    header = attachment(title)
    assert header.isascii() and "\r" not in header and "\n" not in header
    match = SHAPE.fullmatch(header)
    assert match, header
    fallback = match["fallback"]
    assert '"' not in fallback and "\\" not in fallback and "%" not in fallback
    assert fallback.strip() == fallback and fallback
    # filename* is the exact name (control characters replaced), UTF-8, percent-encoded.
    assert unquote(match["exact"], encoding="utf-8", errors="strict") == saved


def test_the_fallback_keeps_what_ascii_can_say():
    assert 'filename="Cafe _ __.jpg"' in attachment("Café ☕ 東京.jpg")
    assert "filename=\"say 'hi'.jpg\"" in attachment('say "hi".jpg')
    assert 'filename="back_"' in attachment("back\\")
    assert 'filename="a_b.jpg"' in attachment("a/b.jpg")
    assert 'filename="download"' in attachment(" ")


@pytest.mark.parametrize(("title", "saved"), TITLES.values(), ids=TITLES.keys())
def test_local_signed_download_urls_carry_any_title(tmp_path, title, saved):
    storage = LocalStorage(tmp_path / "media", secret_key="k" * 40)
    url = storage.url("originals/i", expires_in=60, download_as=title)
    assert url.isascii() and " " not in url and "\n" not in url
