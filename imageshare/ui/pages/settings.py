"""/settings: the signed-in person's account. Anonymous visitors are sent to sign in."""

import reflex as rx

from imageshare.ui.components.layout import (
    full_page_link,
    my_avatar,
    page_layout,
    signed_in_only,
)
from imageshare.ui.state.session import SessionState


def _row(label: str, value) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="8rem"),
        rx.data_list.value(value),
    )


def settings_page() -> rx.Component:
    return page_layout(
        rx.heading("Settings", size="8", as_="h1", margin_bottom="1.5rem"),
        signed_in_only(
            rx.card(
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
                    full_page_link("Sign out", "/auth/logout", variant="soft", color_scheme="gray"),
                    spacing="5",
                ),
                size="3",
                max_width="40rem",
                id="account",
            ),
            width="40rem",
        ),
    )
