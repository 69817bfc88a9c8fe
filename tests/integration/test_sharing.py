"""Short links: the /s/{code} route as people and link-preview crawlers meet it (a
Starlette app over the app's own database helpers on a migrated SQLite file), and new
codes on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from imageshare.auth import sessions
from imageshare.auth.models import WebSession
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.errors import NotAllowed, NotFound
from imageshare.images import service as images
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, Rendition
from imageshare.images.share_codes import ALPHABET, LENGTH
from imageshare.settings import load_settings
from imageshare.sharing import service as sharing
from imageshare.sharing.routes import follow_share_link
from imageshare.users.models import User
from imageshare.wiring import Wiring, installed
from tests.harness.app_server import SETTINGS_NAMES
from tests.harness.database import wired
from tests.harness.rows import image, person

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://pics.example.org"
TWITTERBOT = {"User-Agent": "Twitterbot/1.0"}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
}


def configure(monkeypatch, tmp_path, **extra: str) -> None:
    """Only the settings this test chooses (and app_db's database)."""
    for name in SETTINGS_NAMES:
        if name != "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("SECRET_KEY", "sharing-test-secret-key-0123456789abcdef")
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def share_routes(app: Wiring) -> Starlette:
    """/s/{code} as routes.py serves it, over this wiring."""

    async def share_link(request):
        return await follow_share_link(request, db_sessions=app.session, media=app.media)

    return Starlette(routes=[Route("/s/{code}", share_link)])


@pytest.fixture
def client(app_db, tmp_path, monkeypatch) -> Iterator[TestClient]:
    configure(monkeypatch, tmp_path)
    # Installed, so the helpers below (add, signed_in) work on its database too.
    with wired(load_settings()) as app:
        with TestClient(share_routes(app), follow_redirects=False) as client:
            yield client


@pytest.fixture
def people(client) -> dict[str, Viewer]:
    with installed().session() as db:
        return {name: person(db, name) for name in ("ada", "bo")}


def add(owner: Viewer, title: str, **details) -> Image:
    with installed().session() as db:
        return image(db, owner, title, **details)


def signed_in(viewer: Viewer) -> dict[str, str]:
    """The Cookie header of a browser signed in as `viewer`."""
    with installed().session() as db:
        token = sessions.start(db, user=db.get(User, viewer.user_id))
    return {"Cookie": f"theme=dark; {sessions.COOKIE_NAME}={token}"}


class Meta(HTMLParser):
    """The meta tags and text of a page, unescaped, as a crawler reads them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: dict[str, str] = {}
        self.refresh: str | None = None
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            name = attrs.get("property") or attrs.get("name")
            if name:
                self.tags[name] = attrs["content"]
            if attrs.get("http-equiv") == "refresh":
                self.refresh = attrs["content"]

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def test_people_are_sent_on_to_the_image_page(client, people):
    for visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        shown = add(people["ada"], f"{visibility} one", visibility=visibility)
        for headers in (BROWSER, {}, signed_in(people["bo"])):
            response = client.get(f"/s/{shown.share_code}", headers=headers)
            assert response.status_code == 302, (visibility, headers)
            assert response.headers["location"] == f"/i/{shown.id}"
            assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "agent",
    [
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0",
    ],
)
def test_link_preview_crawlers_get_a_card_of_the_image(client, people, agent):
    shown = add(
        people["ada"], "Harbour at dawn", description="Boats\n\ncoming   home.", location="Porto"
    )
    response = client.get(f"/s/{shown.share_code}", headers={"User-Agent": agent})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    meta = Meta(response.text)
    large = f"{PUBLIC_URL}/media/renditions/{shown.id}/large.webp"
    assert meta.tags["og:title"] == meta.tags["twitter:title"] == "Harbour at dawn"
    assert meta.tags["og:description"] == "Boats coming home."
    assert meta.tags["og:image"] == meta.tags["twitter:image"] == large  # absolute
    assert (meta.tags["og:image:width"], meta.tags["og:image:height"]) == ("2048", "1365")
    assert meta.tags["og:image:type"] == "image/webp"
    assert meta.tags["twitter:card"] == "summary_large_image"
    assert meta.tags["og:url"] == f"{PUBLIC_URL}/s/{shown.share_code}"
    assert meta.tags["robots"] == "all"
    assert meta.refresh == f"0; url=/i/{shown.id}"  # a person who lands here goes on
    assert "<title>Harbour at dawn — imageshare</title>" in response.text


def test_an_unlisted_images_card_asks_not_to_be_indexed(client, people):
    shown = add(people["ada"], "By link only", visibility=Visibility.UNLISTED)
    response = client.get(f"/s/{shown.share_code}", headers=TWITTERBOT)
    assert response.status_code == 200
    meta = Meta(response.text)
    assert meta.tags["og:title"] == "By link only" and meta.tags["robots"] == "noindex"


def test_markup_in_a_title_or_description_is_shown_as_text(client, people):
    title = '</title><script>alert("t")</script> & "quotes"'
    description = '<img src=x onerror=alert(1)> café\'s <a href="javascript:x">link</a>'
    shown = add(people["ada"], title, description=description)
    response = client.get(f"/s/{shown.share_code}", headers=TWITTERBOT)
    assert response.status_code == 200
    html = response.text
    for raw in ("<script>", "<img", '<a href="javascript', 'alert("t")'):
        assert raw not in html, f"{raw!r} reached the page as markup"
    meta = Meta(html)
    assert meta.tags["og:title"] == meta.tags["og:image:alt"] == title  # the same text back
    assert meta.tags["og:description"] == description
    assert title in meta.text and description in meta.text  # the visible page too


def test_a_long_description_is_shortened_and_a_missing_one_replaced(client, people):
    words = " ".join(f"word{n}" for n in range(60))  # 400-odd characters
    long = add(people["ada"], "Wordy", description=words)
    bare = add(people["ada"], "Bare")
    meta = Meta(client.get(f"/s/{long.share_code}", headers=TWITTERBOT).text)
    said = meta.tags["og:description"]
    assert len(said) <= 200 and said.endswith("…") and words.startswith(said[:-1])
    meta = Meta(client.get(f"/s/{bare.share_code}", headers=TWITTERBOT).text)
    assert meta.tags["og:description"] == "A photo by Ada on imageshare."


def test_the_card_shows_the_largest_rendition_there_is(client, people):
    small = add(people["ada"], "Small source")
    waiting = add(people["ada"], "Still processing", status=Status.PROCESSING)
    with installed().session() as db:
        db.exec(
            sa.delete(Rendition).where(
                Rendition.image_id == small.id, Rendition.name == RenditionName.LARGE
            )
        )
        db.exec(sa.delete(Rendition).where(Rendition.image_id == waiting.id))

    meta = Meta(client.get(f"/s/{small.share_code}", headers=TWITTERBOT).text)
    assert meta.tags["og:image"] == f"{PUBLIC_URL}/media/renditions/{small.id}/medium.webp"
    assert (meta.tags["og:image:width"], meta.tags["og:image:height"]) == ("1024", "682")
    assert meta.tags["twitter:card"] == "summary_large_image"

    response = client.get(f"/s/{waiting.share_code}", headers=TWITTERBOT)
    meta = Meta(response.text)
    assert response.status_code == 200 and meta.tags["og:title"] == "Still processing"
    assert "og:image" not in meta.tags and meta.tags["twitter:card"] == "summary"


def test_with_a_cdn_the_card_points_at_the_cdn(app_db, tmp_path, monkeypatch, people):
    configure(monkeypatch, tmp_path, CDN_BASE_URL="https://cdn.example.org")
    shown = add(people["ada"], "Via the CDN")
    with (
        wired(load_settings()) as app,
        TestClient(share_routes(app), follow_redirects=False) as cdn_client,
    ):
        meta = Meta(cdn_client.get(f"/s/{shown.share_code}", headers=TWITTERBOT).text)
    assert meta.tags["og:image"] == f"https://cdn.example.org/renditions/{shown.id}/large.webp"


def assert_not_found(response, *secrets: str) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "This link does not lead anywhere" in response.text
    assert "og:" not in response.text and "twitter:" not in response.text
    for secret in secrets:
        assert secret not in response.text, f"the 404 page gives away {secret!r}"


def test_a_private_image_link_is_a_404_to_all_but_its_owner(client, people):
    ada, bo = people["ada"], people["bo"]
    hidden = add(
        ada,
        "Secret cove",
        visibility=Visibility.PRIVATE,
        description="Where we swim",
        location="Nowhere",
    )
    link = f"/s/{hidden.share_code}"
    for headers in (
        TWITTERBOT,
        BROWSER,
        signed_in(bo),
        {**signed_in(bo), **TWITTERBOT},
        {"Cookie": f"{sessions.COOKIE_NAME}=forged-token"},
    ):
        assert_not_found(
            client.get(link, headers=headers),
            "Secret cove",
            "Where we swim",
            "Nowhere",
            str(hidden.id),
        )

    own = signed_in(ada)
    response = client.get(link, headers={**own, **BROWSER})
    assert response.status_code == 302 and response.headers["location"] == f"/i/{hidden.id}"
    # Even when the owner's browser looks like a crawler, no card of a private image.
    response = client.get(link, headers={**own, **TWITTERBOT})
    assert response.status_code == 302


def test_an_expired_session_is_anonymous_at_a_private_link(client, people):
    ada = people["ada"]
    hidden = add(ada, "Old secret", visibility=Visibility.PRIVATE)
    cookie = signed_in(ada)
    with installed().session() as db:
        for row in db.exec(select(WebSession)).all():
            row.expires_at = row.expires_at - timedelta(days=30)
            db.add(row)
    assert_not_found(client.get(f"/s/{hidden.share_code}", headers=cookie), "Old secret")


def test_links_that_lead_nowhere(client, people):
    ada = people["ada"]
    going = add(ada, "Being deleted")
    renewed = add(ada, "Renewed")
    with installed().session() as db:
        images.begin_deletion(db, viewer=ada, image_ids=[going.id])
        new_code = sharing.regenerate_code(db, viewer=ada, image_id=renewed.id)
    own = signed_in(ada)
    for code in (
        "00000000",
        "abc",
        "abcdefghi",
        "abcd-efg",
        "%3Cscript%3E",
        going.share_code,
        renewed.share_code,
    ):
        for headers in (TWITTERBOT, own):
            assert_not_found(client.get(f"/s/{code}", headers=headers), "Being deleted", "Renewed")
    assert client.get(f"/s/{new_code}").headers["location"] == f"/i/{renewed.id}"


# -- the service, on both databases -----------------------------------------------------


def test_new_codes_are_fresh_base62_and_only_the_owner_may_draw_them(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        public = image(db, ada, "public")
        unlisted = image(db, ada, "unlisted", visibility=Visibility.UNLISTED)
        private = image(db, ada, "private", visibility=Visibility.PRIVATE)
        going = image(db, ada, "going")
        db.commit()

        codes = [public.share_code]
        for _ in range(20):
            codes.append(sharing.regenerate_code(db, viewer=ada, image_id=public.id))
            db.commit()
        assert len(set(codes)) == 21
        assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
        for old in codes[:-1]:
            for viewer in (ada, bo, ANONYMOUS):
                with pytest.raises(NotFound):
                    sharing.image_for_code(db, viewer=viewer, code=old)
        assert sharing.image_for_code(db, viewer=bo, code=codes[-1]).id == public.id
        flipped = codes[-1].swapcase()
        if flipped != codes[-1]:  # codes are case-sensitive
            with pytest.raises(NotFound):
                sharing.image_for_code(db, viewer=ada, code=flipped)

        before = {row.id: row.share_code for row in (unlisted, private)}
        for viewer, target, refusal in (
            (bo, unlisted, NotAllowed),
            (ANONYMOUS, unlisted, NotAllowed),
            (bo, private, NotFound),
            (ANONYMOUS, private, NotFound),
        ):
            with pytest.raises(refusal):
                sharing.regenerate_code(db, viewer=viewer, image_id=target.id)
        db.commit()
        assert {
            r.id: r.share_code for r in db.exec(select(Image).where(Image.id.in_(before))).all()
        } == before

        images.begin_deletion(db, viewer=ada, image_ids=[going.id])
        db.commit()
        with pytest.raises(NotFound):
            sharing.regenerate_code(db, viewer=ada, image_id=going.id)
        with pytest.raises(NotFound):
            sharing.image_for_code(db, viewer=ada, code=going.share_code)
