"""The page shell as a visitor sees it, in Chromium against the production build."""

import re

from playwright.sync_api import expect

from tests.harness.browser import screenshot, wait_until_live


def test_home_page_shows_top_bar_and_the_gallery(app_server, page):
    response = page.goto(app_server.url + "/")
    assert response.status == 200
    expect(page).to_have_title("imageshare — gallery")

    top_bar = page.locator("#top-bar")
    expect(top_bar.get_by_role("link", name="imageshare home")).to_be_visible()
    expect(top_bar.get_by_role("link", name="Gallery")).to_have_attribute("href", "/")
    expect(top_bar.get_by_role("link", name="Upload")).to_have_attribute("href", "/upload")
    expect(top_bar.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", "/auth/login?next=%2F"
    )

    expect(page.get_by_role("heading", name="Gallery", level=1, exact=True)).to_be_visible()
    expect(page.get_by_label("Search images")).to_be_visible()
    screenshot(page, "home-desktop")


def test_a_filter_that_matches_nothing_says_so_and_offers_a_way_back(app_server, page):
    # The session's gallery holds other tests' images: a tag no one uses is empty.
    page.goto(app_server.url + "/?tag=no-image-has-this-tag")
    expect(page.locator("#gallery-empty")).to_contain_text("No images match")
    expect(page.locator("#active-filters")).to_contain_text("no-image-has-this-tag")
    page.get_by_role("link", name="Show all images").click()
    expect(page).to_have_url(app_server.url + "/")
    expect(page.locator("#active-filters")).to_have_count(0)


def test_dark_mode_toggle_switches_the_theme(app_server, page):
    page.emulate_media(color_scheme="light")
    page.goto(app_server.url + "/")
    html = page.locator("html")
    expect(html).to_have_class(re.compile(r"\blight\b"))
    wait_until_live(page)
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    screenshot(page, "home-dark")
    # The choice survives a reload.
    page.reload()
    expect(html).to_have_class(re.compile(r"\bdark\b"))


def test_unknown_address_shows_the_404_page(app_server, page):
    response = page.goto(app_server.url + "/no/such/page")
    assert response.status == 404
    expect(page).to_have_title("Page not found — imageshare")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("#top-bar")).to_be_visible()
    screenshot(page, "not-found-desktop")

    page.get_by_role("link", name="Back to the gallery").click()
    expect(page).to_have_url(app_server.url + "/")
    expect(page.get_by_role("heading", name="Gallery", level=1, exact=True)).to_be_visible()


def test_phone_width_keeps_everything_reachable(app_server, phone_page):
    phone_page.goto(app_server.url + "/")
    for name in ("Gallery", "Upload", "Sign in"):
        expect(phone_page.locator("#top-bar").get_by_role("link", name=name)).to_be_in_viewport()
    # Nothing is wider than the screen (no sideways scrolling).
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    screenshot(phone_page, "home-phone")
