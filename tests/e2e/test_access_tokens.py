"""Personal access tokens on the settings page, in Chromium against the app on Postgres:
made and shown once, listed with when they were last used, gone from the page after a
reload, revoked with a confirmation, and stored only as a hash."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import select

from imageshare.auth import access_tokens
from imageshare.auth.models import AccessToken
from imageshare.users.models import User
from tests.e2e.test_browse_and_share import unique
from tests.e2e.test_development_sign_in import sign_in_as
from tests.harness.browser import PHONE, screenshot, wait_until_live

SECRET = re.compile(r"^isk_[A-Za-z0-9_-]{43}$")


def on_settings(page: Page, app_server, username: str) -> None:
    page.goto(app_server.url + "/auth/login?next=%2Fsettings")
    sign_in_as(page, username)
    # The static build answers /settings at /settings/.
    expect(page).to_have_url(re.compile(re.escape(app_server.url) + r"/settings/?$"))
    wait_until_live(page)


def stored_tokens(seeder, username: str) -> list[AccessToken]:
    with seeder.sessions() as db:
        query = select(AccessToken).join(User).where(User.username == username)
        return list(db.exec(query).all())


def create_token(page: Page, name: str) -> str:
    """Make a token on the settings page; returns the secret it shows."""
    page.locator("#new-token-name").fill(name)
    page.locator("#create-token").click()
    shown = page.locator("#new-token-value")
    expect(shown).to_have_value(SECRET)
    expect(page.locator("#new-token-name")).to_have_value("")
    return shown.input_value()


def token_row(page: Page, name: str):
    return page.locator("#access-tokens .access-token").filter(has_text=name)


def test_a_token_is_shown_once_listed_used_and_revoked(app_server, page, seeder):
    username = unique("scripter")
    on_settings(page, app_server, username)
    expect(page.locator("#no-tokens")).to_be_visible()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    secret = create_token(page, "my script")
    expect(page.locator("#new-token")).to_contain_text("won't be shown again")
    page.locator("#copy-token").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    row = token_row(page, "my script")
    expect(row).to_contain_text(secret[:12] + "…")
    expect(row).to_contain_text("Created just now · Last used never")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar back at the top
    screenshot(page, "tokens-desktop")

    # Stored as its hash, and nowhere in the clear.
    (token,) = stored_tokens(seeder, username)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.display_prefix == secret[4:12]
    with seeder.sessions() as db:
        values = db.connection().execute(sa.text("SELECT * FROM access_token")).all()
    assert not any(secret[4:] in str(value) for row_values in values for value in row_values)

    # Leaving the page, or reloading it, forgets the secret.
    page.locator("#top-bar").get_by_role("link", name="Gallery").click()
    expect(page).to_have_url(app_server.url + "/")
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Settings").click()
    expect(row).to_be_visible()
    expect(page.locator("#new-token-value")).to_have_count(0)
    page.reload()
    wait_until_live(page)
    expect(row).to_contain_text("Last used never")
    expect(page.locator("#new-token-value")).to_have_count(0)
    assert secret[4:] not in page.content()

    # The API's check finds the person, and the page then says when it was used.
    with seeder.sessions() as db:
        assert access_tokens.viewer_for_secret(db, secret=secret).username == username
    page.reload()
    expect(row).to_contain_text("Last used just now")

    row.get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Revoke “my script”?")
    dialog.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    expect(page.locator("#no-tokens")).to_be_visible()
    assert stored_tokens(seeder, username) == []
    with seeder.sessions() as db:
        assert access_tokens.viewer_for_secret(db, secret=secret) is None


def test_on_a_phone_the_token_fits_the_screen(app_server, phone_page, seeder):
    username = unique("pk")  # short: a long name widens the top bar on a phone
    on_settings(phone_page, app_server, username)
    create_token(phone_page, "a name long enough to need a second line on a phone screen")
    create_token(phone_page, "deploy")
    expect(phone_page.locator("#access-tokens .access-token")).to_have_count(2)
    # The card fits the screen: the secret scrolls inside its field, long names wrap.
    card = phone_page.locator("#access-tokens")
    assert card.bounding_box()["x"] + card.bounding_box()["width"] <= PHONE["width"]
    assert card.evaluate("card => card.scrollWidth <= card.clientWidth")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone_page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar back at the top
    screenshot(phone_page, "tokens-phone")
