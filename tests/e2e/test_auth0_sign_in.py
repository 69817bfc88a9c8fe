"""Sign-in through an Auth0-like provider, in Chromium, against the production-mode app."""

from playwright.sync_api import expect

from tests.harness.browser import screenshot, wait_until_live


def test_sign_in_and_out_across_tabs(auth0_app_server, provider, page):
    app = auth0_app_server.url
    provider.control("next-login", {"sub": "auth0|ada", "nickname": "ada", "name": "Ada Lovelace",
                                    "email": "ada@example.com"})  # fmt: skip
    page.goto(app + "/no-such-page")
    wait_until_live(page)
    page.locator("#top-bar").get_by_role("link", name="Sign in").click()

    # Through the provider and back to where the person started.
    expect(page).to_have_url(app + "/no-such-page")
    expect(page.locator("#signed-in-name")).to_have_text("Ada Lovelace")
    authorize = next(e for e in provider.events() if e["type"] == "authorize")
    assert authorize["audience"] == "https://api.imageshare.test"
    assert set(authorize["scope"].split()) == {"openid", "profile", "email"}

    cookie = next(c for c in page.context.cookies() if c["name"] == "imageshare_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    screenshot(page, "auth0-signed-in")

    page.reload()
    expect(page.locator("#signed-in-name")).to_have_text("Ada Lovelace")
    other_tab = page.context.new_page()
    other_tab.goto(app + "/")
    expect(other_tab.locator("#signed-in-name")).to_have_text("Ada Lovelace")

    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("menuitem", name="My profile")).to_have_attribute("href", "/u/ada")
    screenshot(page, "auth0-account-menu")
    page.get_by_role("menuitem", name="Sign out").click()

    # Auth0's logout sends the person back to the site, signed out.
    expect(page).to_have_url(app + "/")
    logout = next(e for e in provider.events() if e["type"] == "logout")
    assert logout == {"type": "logout", "client_id": "imageshare-test-client", "returnTo": app}
    expect(page.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()
    other_tab.reload()
    expect(other_tab.locator("#top-bar").get_by_role("link", name="Sign in")).to_be_visible()


def test_sign_up_asks_the_provider_for_the_sign_up_screen(auth0_app_server, provider, page):
    page.goto(auth0_app_server.url + "/auth/signup?next=/")
    expect(page.locator("#signed-in-name")).to_be_visible()
    authorize = next(e for e in provider.events() if e["type"] == "authorize")
    assert authorize["screen_hint"] == "signup"
