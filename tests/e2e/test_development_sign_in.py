"""Development sign-in (no Auth0 configured): sign in and out in a real browser."""

import re

from playwright.sync_api import expect

from tests.harness.browser import screenshot, wait_until_live


def sign_in_as(page, username: str) -> None:
    expect(page.get_by_role("heading", name="Sign in as…")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_returns_to_the_page_and_survives_reload_and_new_tabs(app_server, page):
    page.goto(app_server.url + "/no-such-page")
    wait_until_live(page)
    page.locator("#top-bar").get_by_role("link", name="Sign in").click()

    expect(page).to_have_url(app_server.url + "/auth/login?next=%2Fno-such-page")
    expect(page.get_by_text("only for local development")).to_be_visible()
    screenshot(page, "development-sign-in")
    sign_in_as(page, "devon")

    # Back where the person started, now signed in.
    expect(page).to_have_url(app_server.url + "/no-such-page")
    expect(page.locator("#signed-in-name")).to_have_text("devon")
    screenshot(page, "signed-in-desktop")

    page.reload()
    expect(page.locator("#signed-in-name")).to_have_text("devon")

    second_tab = page.context.new_page()
    second_tab.goto(app_server.url + "/")
    expect(second_tab.locator("#signed-in-name")).to_have_text("devon")

    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("menuitem", name="My profile")).to_have_attribute("href", "/u/devon")
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(app_server.url + "/")
    expect(page.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()

    second_tab.reload()
    expect(second_tab.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()
    expect(second_tab.locator("#signed-in-name")).to_have_count(0)


def test_an_invalid_username_is_refused_with_a_reason(app_server, page):
    page.goto(app_server.url + "/auth/login")
    page.get_by_label("Username").fill("no spaces")
    # The browser's own check stops it first; the server's check is the guard.
    page.evaluate("document.querySelector('form').noValidate = true")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a username")
    page.goto(app_server.url + "/")
    expect(page.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()


def test_a_page_for_signed_in_people_sends_visitors_to_sign_in_and_back(app_server, page):
    page.goto(app_server.url + "/settings")
    expect(page).to_have_url(app_server.url + "/auth/login?next=%2Fsettings")
    sign_in_as(page, "settler")
    # The static build answers /settings at /settings/.
    expect(page).to_have_url(re.compile(re.escape(app_server.url) + r"/settings/?$"))
    account = page.locator("#account")
    expect(account).to_contain_text("@settler")
    screenshot(page, "settings-desktop")


def test_a_link_to_sign_out_asks_first_and_the_button_signs_out(app_server, page):
    page.goto(app_server.url + "/auth/login?next=/")
    sign_in_as(page, "linda")
    expect(page.locator("#signed-in-name")).to_have_text("linda")

    # Following a link (say, from another site) to /auth/logout signs nobody out.
    page.goto(app_server.url + "/auth/logout")
    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()
    page.goto(app_server.url + "/")
    expect(page.locator("#signed-in-name")).to_have_text("linda")

    page.goto(app_server.url + "/auth/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(app_server.url + "/")
    expect(page.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()


def test_the_settings_page_signs_out(app_server, page):
    page.goto(app_server.url + "/auth/login?next=/settings")
    sign_in_as(page, "sally")
    expect(page.locator("#signed-in-name")).to_have_text("sally")
    page.locator("#account").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(app_server.url + "/")
    expect(page.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()
