"""The home page: the public gallery."""

import reflex as rx

from imageshare.ui.components.layout import page_layout


def empty_gallery() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("images", size=48, color=rx.color("gray", 9)),
            rx.heading("The gallery is empty", size="6", as_="h2"),
            rx.text(
                "No one has shared a public image yet. Be the first.",
                color_scheme="gray",
                size="3",
            ),
            rx.link(rx.button("Upload an image", size="3"), href="/upload"),
            align="center",
            spacing="4",
            padding="3rem",
        ),
        border=f"1px dashed {rx.color('gray', 7)}",
        border_radius="var(--radius-4)",
        min_height="20rem",
        id="gallery-empty",
    )


def home() -> rx.Component:
    return page_layout(
        rx.vstack(
            rx.heading("Gallery", size="8", as_="h1"),
            rx.text("The newest public images.", color_scheme="gray", size="3"),
            spacing="2",
            margin_bottom="1.5rem",
        ),
        empty_gallery(),
    )
