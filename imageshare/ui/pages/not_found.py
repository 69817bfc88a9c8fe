"""The page for any address that leads nowhere — also shown, in place, by the image and
profile pages for what does not exist or may not be seen (a private image is
indistinguishable from a missing one)."""

import reflex as rx

from imageshare.ui.components.layout import button_link, page_layout


def not_found_message() -> rx.Component:
    return rx.center(
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
            button_link("Back to the gallery", href="/", size="3"),
            align="center",
            spacing="4",
            padding_y="4rem",
        ),
        id="not-found",
    )


def not_found() -> rx.Component:
    return page_layout(not_found_message())
