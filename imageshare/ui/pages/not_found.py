"""The page for any address that leads nowhere."""

import reflex as rx

from imageshare.ui.components.layout import page_layout


def not_found() -> rx.Component:
    return page_layout(
        rx.center(
            rx.vstack(
                rx.text("404", size="9", weight="bold", color=rx.color("accent", 9)),
                rx.heading("Page not found", size="7", as_="h1"),
                rx.text(
                    "There is nothing at this address. It may have been deleted, "
                    "made private, or the link may be mistyped.",
                    color_scheme="gray",
                    size="3",
                    text_align="center",
                    max_width="32rem",
                ),
                rx.link(rx.button("Back to the gallery", size="3"), href="/"),
                align="center",
                spacing="4",
                padding_y="4rem",
            ),
            id="not-found",
        )
    )
