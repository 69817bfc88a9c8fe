"""/settings: the signed-in person's account and their access tokens for the API.
Anonymous visitors are sent to sign in."""

import reflex as rx

from imageshare.auth.access_tokens import MAX_NAME_LENGTH
from imageshare.ui.components.confirm import confirm_dialog
from imageshare.ui.components.layout import (
    SIGN_OUT_FORM,
    document_link,
    my_avatar,
    page_layout,
    signed_in_only,
)
from imageshare.ui.state.access_tokens import NEW_TOKEN, AccessTokensState, TokenItem
from imageshare.ui.state.session import SessionState

CARD_WIDTH = "40rem"


def _row(label: str, value) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="8rem"),
        rx.data_list.value(value),
    )


def account_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                my_avatar(size="6"),
                rx.vstack(
                    rx.heading(SessionState.display_name, size="5", as_="h2"),
                    rx.text("@", SessionState.username, color_scheme="gray"),
                    spacing="1",
                ),
                align="center",
                spacing="4",
            ),
            rx.data_list.root(
                _row("Username", SessionState.username),
                _row("Display name", SessionState.display_name),
                _row(
                    "Profile",
                    rx.link(SessionState.profile_url, href=SessionState.profile_url),
                ),
            ),
            rx.text(
                "Your name and picture come from your sign-in account and are "
                "updated each time you sign in.",
                size="2",
                color_scheme="gray",
            ),
            # Submits the top bar's sign-out form (a POST: see layout.sign_out_form).
            rx.button(
                "Sign out", type="submit", form=SIGN_OUT_FORM, variant="soft", color_scheme="gray"
            ),
            spacing="5",
        ),
        size="3",
        width="100%",
        id="account",
    )


def new_token_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Name", html_for="new-token-name", font_size="var(--font-size-2)"),
            rx.flex(
                rx.input(
                    name="name",
                    value=AccessTokensState.name,
                    on_change=AccessTokensState.set_name,
                    placeholder="What will use it, e.g. backup script",
                    max_length=MAX_NAME_LENGTH,
                    required=True,
                    id="new-token-name",
                    flex="1",
                    min_width="12rem",
                ),
                rx.select.root(
                    rx.select.trigger(aria_label="Expires", id="new-token-lifetime"),
                    rx.select.content(
                        rx.select.item("Expires in 30 days", value="30"),
                        rx.select.item("Expires in 90 days", value="90"),
                        rx.select.item("Expires in a year", value="365"),
                        rx.select.item("Never expires", value="never"),
                    ),
                    value=AccessTokensState.lifetime,
                    on_change=AccessTokensState.set_lifetime,
                ),
                rx.button(
                    "Create token",
                    type="submit",
                    loading=AccessTokensState.creating,
                    id="create-token",
                ),
                gap="0.5rem",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(
                AccessTokensState.lifetime == "never",
                rx.text(
                    "A token that never expires works until you revoke it, also if it leaks. "
                    "Prefer an expiry, and make a new token when it ends.",
                    size="1",
                    color_scheme="amber",
                    id="never-expires-warning",
                ),
            ),
            spacing="1",
            width="100%",
        ),
        on_submit=AccessTokensState.create,
        reset_on_submit=False,
        width="100%",
    )


def new_token_callout() -> rx.Component:
    """The secret just made, shown this once, with a way to copy it."""
    return rx.cond(
        NEW_TOKEN.value != "",
        rx.callout.root(
            rx.vstack(
                rx.hstack(
                    rx.icon("key-round", size=16, flex_shrink="0", margin_top="0.2rem"),
                    rx.text(
                        "Copy your new token now. It won't be shown again: only a hash of it "
                        "is kept.",
                        size="2",
                        weight="medium",
                    ),
                    spacing="2",
                    align="start",
                ),
                rx.flex(
                    # Scrolls inside the field on a phone instead of widening the page.
                    rx.input(
                        value=NEW_TOKEN.value,
                        read_only=True,
                        id="new-token-value",
                        aria_label="Your new token",
                        font_family="var(--code-font-family)",
                        flex="1",
                        min_width="0",
                        on_focus=rx.call_script("document.activeElement.select()"),
                    ),
                    rx.icon_button(
                        rx.icon("copy", size=16),
                        type="button",
                        on_click=[
                            rx.set_clipboard(NEW_TOKEN.value),
                            rx.toast.success("Token copied."),
                        ],
                        aria_label="Copy token",
                        id="copy-token",
                    ),
                    gap="0.5rem",
                    width="100%",
                ),
                rx.button(
                    "I have copied it",
                    variant="soft",
                    size="1",
                    on_click=NEW_TOKEN.set_value(""),
                ),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            color_scheme="green",
            width="100%",
            id="new-token",
        ),
    )


def token_row(item: rx.Var[TokenItem]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.flex(
                    rx.text(item.name, size="2", weight="medium", word_break="break-word"),
                    rx.code(item.shown_as, size="1", variant="ghost", color_scheme="gray"),
                    gap="0.25rem 0.5rem",
                    align="baseline",
                    wrap="wrap",
                ),
                rx.text(
                    "Created ",
                    rx.el.time(item.created_ago, title=item.created_exact),
                    " · Last used ",
                    rx.el.time(item.last_used_ago, title=item.last_used_exact),
                    " · ",
                    item.expiry,
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            confirm_dialog(
                title=f"Revoke “{item.name}”?",
                description="Anything using this token is refused from its next request. "
                "This cannot be undone.",
                confirm_label="Revoke",
                on_confirm=AccessTokensState.revoke(item.id),
                trigger=rx.button("Revoke", variant="soft", color_scheme="red", size="1"),
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        padding_y="0.75rem",
        border_top=f"1px solid {rx.color('gray', 4)}",
        list_style="none",
        class_name="access-token",
    )


def token_list() -> rx.Component:
    return rx.cond(
        AccessTokensState.token_count > 0,
        rx.el.ul(
            rx.foreach(AccessTokensState.tokens, token_row),
            padding="0",
            margin="0",
            width="100%",
            id="token-list",
        ),
        rx.cond(
            AccessTokensState.loaded,
            rx.text("You have no access tokens.", size="2", color_scheme="gray", id="no-tokens"),
            rx.skeleton(rx.box(height="3rem"), loading=True, width="100%"),
        ),
    )


def access_tokens_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Access tokens", size="5", as_="h2"),
            rx.text(
                "For scripts and integrations using the GraphQL API at ",
                rx.code("/graphql"),
                ". Send a token as ",
                rx.code("Authorization: Bearer <token>", word_break="break-word"),
                ". It acts as you: keep it secret, and revoke it when it is no longer needed.",
                size="2",
                color_scheme="gray",
            ),
            rx.text(
                "Try queries as yourself in ",
                rx.link(document_link("GraphiQL", href="/graphql"), as_child=True),
                ", the API's editor and documentation, while you are signed in.",
                size="2",
                color_scheme="gray",
            ),
            new_token_form(),
            new_token_callout(),
            token_list(),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
        id="access-tokens",
        # Mounted once the page knows who is signed in (inside signed_in_only), so the
        # list loads without an entry in the page's on_load. Leaving the page forgets
        # a secret still on show.
        on_mount=AccessTokensState.load,
        on_unmount=NEW_TOKEN.set_value(""),
    )


def settings_page() -> rx.Component:
    return page_layout(
        rx.heading("Settings", size="8", as_="h1", margin_bottom="1.5rem"),
        signed_in_only(
            rx.vstack(
                account_card(),
                access_tokens_card(),
                spacing="5",
                max_width=CARD_WIDTH,
                width="100%",
            ),
            width=CARD_WIDTH,
        ),
    )
