"""The home page: the public gallery, newest first, with search and filters."""

import reflex as rx

from imageshare.images import listing
from imageshare.ui.components.image_grid import grid_skeleton, image_grid, pager
from imageshare.ui.components.layout import button_link, empty_state, page_layout
from imageshare.ui.state.gallery import GalleryState


def empty_gallery() -> rx.Component:
    return empty_state(
        "images",
        rx.cond(
            GalleryState.filtered,
            rx.fragment(
                rx.heading("No images match", size="6", as_="h2"),
                rx.text(
                    "Nothing public fits these filters. Try fewer words or another tag.",
                    color_scheme="gray",
                    size="3",
                    text_align="center",
                ),
                button_link("Show all images", href="/", size="3", variant="soft"),
            ),
            rx.fragment(
                rx.heading("The gallery is empty", size="6", as_="h2"),
                rx.text(
                    "No one has shared a public image yet. Be the first.",
                    color_scheme="gray",
                    size="3",
                ),
                button_link("Upload an image", href="/upload", size="3"),
            ),
        ),
        id="gallery-empty",
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                name="q",
                key=GalleryState.q,  # a new search in the URL resets the box
                default_value=GalleryState.q,
                placeholder="Search titles, descriptions and places",
                type="search",
                aria_label="Search images",
                size="3",
                flex="1",
                max_length=listing.MAX_SEARCH,
            ),
            rx.button("Search", type="submit", size="3"),
            width="100%",
            spacing="2",
        ),
        on_submit=GalleryState.search,
        role="search",
        width="100%",
        max_width="36rem",
    )


def filter_chip(label: str, value, remove_href) -> rx.Component:
    return rx.cond(
        value != "",
        rx.badge(
            rx.text(label, weight="regular"),
            rx.text(value, weight="bold"),
            rx.link(
                rx.icon("x", size=14),
                href=remove_href,
                aria_label=f"Remove the {label.lower().rstrip(': ')} filter",
                color="inherit",
                display="inline-flex",
            ),
            size="2",
            variant="soft",
            radius="full",
            gap="0.35rem",
            padding_x="0.6rem",
            class_name="filter-chip",
        ),
    )


def active_filters() -> rx.Component:
    return rx.cond(
        GalleryState.filtered,
        rx.hstack(
            filter_chip("Tag:", GalleryState.tag, GalleryState.without_tag),
            filter_chip("Place:", GalleryState.location, GalleryState.without_location),
            filter_chip("By:", GalleryState.user, GalleryState.without_user),
            filter_chip("Words:", GalleryState.q, GalleryState.without_q),
            rx.link("Clear all", href="/", size="2"),
            wrap="wrap",
            spacing="2",
            align="center",
            id="active-filters",
        ),
    )


def home() -> rx.Component:
    return page_layout(
        rx.vstack(
            rx.heading("Gallery", size="8", as_="h1"),
            rx.text("The newest public images.", color_scheme="gray", size="3"),
            search_form(),
            active_filters(),
            spacing="3",
            margin_bottom="1.5rem",
            width="100%",
        ),
        rx.cond(
            GalleryState.loaded,
            rx.cond(
                GalleryState.cards.length() > 0,
                rx.fragment(
                    image_grid(GalleryState.cards),
                    pager(GalleryState.newer_href, GalleryState.older_href),
                ),
                empty_gallery(),
            ),
            grid_skeleton(),
        ),
    )
