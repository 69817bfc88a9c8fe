"""Browsing and sharing in Chromium, as an anonymous visitor, an owner and another person,
against the app on Postgres and SeaweedFS. Each test seeds images under names and tags
of its own, so the shared gallery of the session does not disturb it."""

from __future__ import annotations

import re
import secrets
import uuid
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from imageshare.images.models import Image
from tests.e2e.test_development_sign_in import sign_in_as
from tests.harness.app_server import APP_BUCKET
from tests.harness.browser import screenshot, wait_until_live


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def share_code(seeder, image_id: uuid.UUID) -> str:
    with seeder.sessions() as db:
        return db.get(Image, image_id).share_code


def signed_in(page: Page, app_server, username: str, path: str) -> None:
    page.goto(f"{app_server.url}/auth/login?next={quote(path)}")
    sign_in_as(page, username)
    expect(page).to_have_url(app_server.url + path)
    wait_until_live(page)


def card(page: Page, title: str):
    return page.locator(".image-card").filter(has=page.get_by_role("link", name=title, exact=True))


def titles(page: Page) -> list[str]:
    return page.locator(".image-card .card-title").all_inner_texts()


def test_anonymous_visitor_pages_filters_opens_and_follows_a_short_link(app_server, page, seeder):
    owner = seeder.person(unique("lens"))
    tag = unique("walk")
    word = unique("zebra")
    ids = [
        seeder.image(owner, f"Walk {n:02d}", tags=tag, location="Porto, Portugal")
        for n in range(30)
    ]
    seeder.image(owner, "Walk hidden unlisted", tags=tag, visibility="unlisted")
    seeder.image(owner, "Walk hidden private", tags=tag, visibility="private")
    seeder.image(owner, f"Quiet street {word}", description="Early morning, nobody about.")

    page.goto(f"{app_server.url}/?tag={tag}")
    wait_until_live(page)
    expect(page.locator(".image-card")).to_have_count(24)
    assert titles(page) == [f"Walk {n:02d}" for n in range(29, 5, -1)]  # newest first
    expect(page.locator("#active-filters")).to_contain_text(tag)
    screenshot(page, "gallery-desktop")

    page.locator("#page-older").click()
    expect(page).to_have_url(re.compile(rf"/\?tag={tag}&after=\w+"))
    expect(page.locator(".image-card")).to_have_count(6)
    assert titles(page) == [f"Walk {n:02d}" for n in range(5, -1, -1)]
    expect(page.locator("#page-older")).to_have_count(0)
    page.go_back()
    expect(page).to_have_url(f"{app_server.url}/?tag={tag}")
    expect(page.locator(".image-card").first).to_contain_text("Walk 29")
    page.go_forward()
    expect(page.locator(".image-card").first).to_contain_text("Walk 05")
    page.reload()
    expect(page.locator(".image-card")).to_have_count(6)
    page.locator("#page-newer").click()
    expect(page.locator(".image-card")).to_have_count(24)
    expect(page.locator("#page-newer")).to_have_count(0)

    # Free text over the whole gallery: a word of a title, found by its beginning.
    page.get_by_role("link", name="Clear all").click()
    expect(page).to_have_url(app_server.url + "/")
    page.get_by_label("Search images").fill(word[:-2])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/\?q=" + word[:-2]))
    expect(page.locator(".image-card")).to_have_count(1)
    expect(page.locator(".image-card")).to_contain_text(f"Quiet street {word}")
    page.get_by_label("Search images").fill("nothing-matches-this-" + word)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No images match")).to_be_visible()

    # Open an image: its page, its tags as filters, no comment box for visitors.
    page.goto(f"{app_server.url}/?tag={tag}")
    card(page, "Walk 29").get_by_role("link", name="Walk 29").click()
    expect(page).to_have_url(f"{app_server.url}/i/{ids[29]}")
    expect(page.get_by_role("heading", name="Walk 29", level=1)).to_be_visible()
    expect(page.locator("#image-large")).to_have_attribute("alt", "Walk 29")
    expect(page.locator("#sign-in-to-comment")).to_be_visible()
    expect(page.get_by_label("Your comment")).to_have_count(0)
    expect(page.get_by_role("link", name="Original")).to_have_count(0)  # owner only
    share_url = page.locator("#share-url").input_value()
    assert re.fullmatch(rf"{app_server.url}/s/[0-9A-Za-z]{{8}}", share_url)
    screenshot(page, "image-desktop")
    page.locator("#image-location").click()
    expect(page).to_have_url(f"{app_server.url}/?location=Porto%2C+Portugal")
    expect(page.locator(".image-card").first).to_contain_text("Walk 29")

    page.goto(share_url)
    expect(page).to_have_url(f"{app_server.url}/i/{ids[29]}")
    expect(page.get_by_role("heading", name="Walk 29", level=1)).to_be_visible()


def test_owner_sees_badges_edits_shares_anew_and_deletes(
    app_server, page, seeder, postgres_url, s3_server
):
    username = unique("owner")
    owner = seeder.person(username)
    first = seeder.image(owner, "Harbour at dawn", tags="sea")
    unlisted = seeder.image(owner, "Unlisted boats", visibility="unlisted")
    seeder.image(owner, "Private notes", visibility="private")
    fourth = seeder.image(owner, "Fishing nets")
    fifth = seeder.image(owner, "Gulls")

    signed_in(page, app_server, username, f"/u/{username}")
    expect(page.locator("#profile-name")).to_have_text(username)
    expect(page.locator(".image-card")).to_have_count(5)
    expect(page.locator("#profile-count")).to_have_text("5 images")
    expect(card(page, "Unlisted boats")).to_contain_text("Unlisted")
    expect(card(page, "Private notes")).to_contain_text("Private")
    expect(card(page, "Gulls")).to_contain_text("Public")
    screenshot(page, "profile-owner-desktop")

    # Edit in place: details and visibility.
    card(page, "Harbour at dawn").get_by_role("button", name="Edit").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog.get_by_label("Title")).to_have_value("Harbour at dawn")
    dialog.get_by_label("Title").fill("Harbour at first light")
    dialog.get_by_label("Tags").fill("Sea, Morning")
    dialog.get_by_label("Visibility").click()
    page.get_by_role("option", name=re.compile("^Private")).click()
    screenshot(page, "profile-edit-dialog")
    # Meanwhile another tab (or an API client) sets the place: the dialog sends only
    # what was changed in it, so that change stays.
    with sa.create_engine(postgres_url).begin() as connection:
        connection.execute(
            sa.text("UPDATE image SET location = 'Honfleur' WHERE id = CAST(:id AS uuid)"),
            {"id": str(first)},
        )
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(card(page, "Harbour at first light")).to_contain_text("Private")
    page.goto(f"{app_server.url}/i/{first}")
    expect(page.locator("#image-tags")).to_contain_text("#morning")
    expect(page.locator("#image-location")).to_have_text("Honfleur")
    expect(page.get_by_role("link", name="Original")).to_be_visible()

    # A new share link: the old one leads nowhere, the new one to the image.
    page.goto(f"{app_server.url}/i/{fourth}")
    # This image's own link, not the one the page showed before it loaded.
    old_link = f"{app_server.url}/s/{share_code(seeder, fourth)}"
    expect(page.locator("#share-url")).to_have_value(old_link)
    page.get_by_role("button", name="New link").click()
    page.get_by_role("button", name="Make a new link").click()
    expect(page.locator("#share-url")).not_to_have_value(old_link)
    new_link = page.locator("#share-url").input_value()
    assert httpx.get(old_link).status_code == 404
    assert httpx.get(new_link).headers["location"] == f"/i/{fourth}"

    # Delete one after confirming, then two together.
    page.goto(f"{app_server.url}/u/{username}")
    card(page, "Gulls").get_by_role("button", name="Delete").click()
    expect(page.locator("#delete-dialog")).to_contain_text("Gulls")
    page.locator("#delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("“Gulls” was deleted.")).to_be_visible()
    expect(page.locator(".image-card")).to_have_count(4)

    page.get_by_label("Select Unlisted boats").click()
    page.get_by_label("Select Fishing nets").click()
    expect(page.locator("#selection-bar")).to_contain_text("2 selected")
    page.get_by_role("button", name="Delete selected").click()
    page.locator("#bulk-delete-dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("2 images deleted.")).to_be_visible()
    expect(page.locator(".image-card")).to_have_count(2)
    expect(page.locator("#profile-count")).to_have_text("2 images")

    gone = [fifth, unlisted, fourth]
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        for table, column in (
            ("image", "id"),
            ("rendition", "image_id"),
            ("image_tag", "image_id"),
            ("comment", "image_id"),
        ):
            left = connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {column} = ANY(:ids)"),
                {"ids": gone},
            ).scalar_one()
            assert left == 0, f"{table} still has rows of deleted images"
    engine.dispose()
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=APP_BUCKET)["Contents"]]
    for image_id in gone:
        assert not [key for key in keys if str(image_id) in key]
    assert f"originals/{first}" in keys  # the rest are untouched


def test_others_get_404_for_private_see_unlisted_by_link_and_comments_go_live(
    app_server, browser, seeder
):
    owner_name, other_name = unique("keeper"), unique("visitor")
    owner = seeder.person(owner_name)
    seeder.person(other_name)
    private = seeder.image(owner, "Diary page", visibility="private")
    unlisted = seeder.image(owner, "Unlisted sketch", visibility="unlisted")
    public = seeder.image(owner, "Open sky", tags=unique("sky"))

    owner_page = browser.new_context().new_page()
    other_page = browser.new_context().new_page()
    signed_in(owner_page, app_server, owner_name, f"/i/{public}")
    signed_in(other_page, app_server, other_name, f"/i/{private}")

    expect(other_page.locator("#not-found")).to_be_visible()
    expect(other_page.get_by_text("Diary page")).to_have_count(0)
    response = other_page.goto(f"{app_server.url}/s/{share_code(seeder, private)}")
    assert response.status == 404
    assert "Diary page" not in other_page.content()

    other_page.goto(f"{app_server.url}/s/{share_code(seeder, unlisted)}")
    expect(other_page).to_have_url(f"{app_server.url}/i/{unlisted}")
    expect(other_page.get_by_role("heading", name="Unlisted sketch")).to_be_visible()
    other_page.goto(f"{app_server.url}/?user={owner_name}")
    expect(other_page.locator(".image-card")).to_have_count(1)
    expect(other_page.locator(".image-card")).to_contain_text("Open sky")
    other_page.goto(f"{app_server.url}/u/{owner_name}")
    expect(other_page.locator(".image-card")).to_have_count(1)
    expect(other_page.locator("#profile-count")).to_have_text("1 image")

    # A comment posted by one person appears on the other's open page, as text.
    other_page.goto(f"{app_server.url}/i/{public}")
    wait_until_live(other_page)
    expect(owner_page.locator("#no-comments")).to_be_visible()
    other_page.get_by_label("Your comment").fill("  <b>Lovely</b> light!  ")
    other_page.get_by_role("button", name="Post comment").click()
    expect(other_page.get_by_text("Comment posted.")).to_be_visible()
    live = owner_page.locator("#comments .comment")
    expect(live).to_have_count(1, timeout=10_000)
    expect(live).to_contain_text("<b>Lovely</b> light!")
    expect(live.locator("b")).to_have_count(0)
    expect(owner_page.get_by_role("heading", name="Comments 1")).to_be_visible()
    screenshot(owner_page, "image-live-comment")

    # The image's owner may delete anyone's comment; it goes from both pages.
    live.get_by_role("button", name="Delete comment").click()
    owner_page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(owner_page.locator("#no-comments")).to_be_visible()
    expect(other_page.locator("#comments .comment")).to_have_count(0, timeout=10_000)
    owner_page.context.close()
    other_page.context.close()


def test_link_preview_crawlers_get_open_graph_for_public_links_only(app_server, seeder):
    owner = seeder.person(unique("crawled"))
    public = seeder.image(owner, "Lighthouse <at> night", description="Beam over the bay.")
    private = seeder.image(owner, "Secret cove", visibility="private")
    twitterbot = {"User-Agent": "Twitterbot/1.0"}

    preview = httpx.get(f"{app_server.url}/s/{share_code(seeder, public)}", headers=twitterbot)
    assert preview.status_code == 200
    html = preview.text
    assert '<meta property="og:title" content="Lighthouse &lt;at&gt; night">' in html
    assert '<meta property="og:description" content="Beam over the bay.">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    image_url = re.search(r'<meta property="og:image" content="([^"]+)">', html)[1]
    assert image_url.startswith("http")
    assert httpx.get(image_url.replace("&amp;", "&")).headers["content-type"] == "image/webp"
    assert re.search(r'og:image:width" content="\d+"', html)
    assert f'url=/i/{public}"' in html  # people who land here are sent on

    person = httpx.get(f"{app_server.url}/s/{share_code(seeder, public)}")
    assert person.status_code == 302 and person.headers["location"] == f"/i/{public}"

    hidden = httpx.get(f"{app_server.url}/s/{share_code(seeder, private)}", headers=twitterbot)
    assert hidden.status_code == 404
    assert "Secret cove" not in hidden.text and "og:title" not in hidden.text
    assert httpx.get(f"{app_server.url}/s/00000000", headers=twitterbot).status_code == 404


def test_pages_fit_a_phone(app_server, phone_page, seeder):
    username = unique("pocket")
    owner = seeder.person(username)
    image_id = seeder.image(
        owner, "A rather long title for a small screen, to see it wrap", tags="phone, test",
        location="Reykjavík, Iceland", description="Taken on a walk along the harbour.",
        size=(1800, 1200),
    )  # fmt: skip
    for path, name in (("/", "gallery-phone"), (f"/i/{image_id}", "image-phone"),
                       (f"/u/{username}", "profile-phone")):  # fmt: skip
        phone_page.goto(app_server.url + path)
        wait_until_live(phone_page)
        phone_page.locator(".image-card, #image-title").first.wait_for()
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, path
        screenshot(phone_page, name)
    phone_page.goto(f"{app_server.url}/i/{image_id}")
    # Phones are given the medium rendition, not the large one; desktops the large.
    source = phone_page.locator("#image-large").evaluate("img => img.currentSrc")
    assert "medium.webp" in source
    desktop = phone_page.context.browser.new_page(viewport={"width": 1280, "height": 800})
    desktop.goto(f"{app_server.url}/i/{image_id}")
    desktop.locator("#image-large").wait_for()
    assert "large.webp" in desktop.locator("#image-large").evaluate("img => img.currentSrc")
    desktop.close()
