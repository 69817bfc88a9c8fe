"""/i/[image_id]: one image, its details, its share panel and its comments."""

from __future__ import annotations

import reflex as rx

from imageshare.ui.components.comments import comments_section
from imageshare.ui.components.confirm import confirm_dialog
from imageshare.ui.components.edit_dialog import (
    delete_image_button,
    edit_image_button,
    owner_dialogs,
)
from imageshare.ui.components.layout import page_layout
from imageshare.ui.pages.not_found import not_found_message
from imageshare.ui.state.image import ImageState, ShareState

# Phones get the medium rendition; anything wider the large one.
SMALL_SCREEN = "(max-width: 48rem)"


def picture() -> rx.Component:
    return rx.cond(
        ImageState.large_src != "",
        rx.el.picture(
            rx.el.source(media=SMALL_SCREEN, src_set=ImageState.medium_src),
            rx.el.img(
                src=ImageState.large_src,
                alt=ImageState.title,
                width="100%",
                style={
                    "display": "block",
                    "aspectRatio": ImageState.aspect_ratio,
                    "maxHeight": "80vh",
                    "objectFit": "contain",
                    "backgroundImage": f"url({ImageState.placeholder})",
                    "backgroundSize": "contain",
                    "backgroundRepeat": "no-repeat",
                    "backgroundPosition": "center",
                },
                id="image-large",
            ),
        ),
        rx.center(
            rx.text(
                rx.cond(
                    ImageState.status == "failed",
                    "This image could not be processed.",
                    "This image is still being processed.",
                ),
                color_scheme="gray",
            ),
            min_height="16rem",
        ),
    )


def fact(label: str, value) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="7rem"),
        rx.data_list.value(value),
    )


def camera_facts() -> rx.Component:
    return rx.data_list.root(
        rx.cond(ImageState.dimensions != "", fact("Size", ImageState.dimensions)),
        rx.foreach(ImageState.camera, lambda row: fact(row[0], row[1])),
        rx.cond(
            ImageState.gps != "",
            rx.data_list.item(
                rx.data_list.label("Position", min_width="7rem"),
                rx.data_list.value(
                    rx.hstack(
                        rx.text(ImageState.gps),
                        rx.tooltip(
                            rx.icon("eye-off", size=14),
                            content="Only you can see where this photo was taken.",
                        ),
                        align="center",
                        spacing="2",
                    )
                ),
            ),
        ),
        size="2",
        id="image-facts",
    )


def tag_links() -> rx.Component:
    return rx.cond(
        ImageState.tags.length() > 0,
        rx.hstack(
            rx.foreach(
                ImageState.tag_links,
                lambda link: rx.link(
                    rx.badge("#", link[0], variant="soft", size="2", radius="full"),
                    href=link[1],
                    title="More images tagged " + link[0],
                ),
            ),
            wrap="wrap",
            spacing="2",
            id="image-tags",
        ),
    )


def share_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Share", weight="bold", size="3"),
            rx.hstack(
                rx.input(
                    value=ShareState.share_url,
                    read_only=True,
                    aria_label="Short link",
                    flex="1",
                    id="share-url",
                    on_focus=rx.call_script("document.getElementById('share-url').select()"),
                ),
                rx.button(
                    rx.icon("copy", size=16),
                    "Copy",
                    on_click=ShareState.copy_share_url,
                    variant="soft",
                ),
                width="100%",
                spacing="2",
            ),
            rx.hstack(
                rx.cond(
                    ImageState.large_src != "",
                    rx.button(
                        rx.el.a(
                            rx.icon("download", size=16),
                            "Download",
                            href=ImageState.large_src,
                            download=ImageState.title + ".webp",
                            reload_document=True,
                        ),
                        as_child=True,
                        variant="soft",
                        color_scheme="gray",
                    ),
                ),
                rx.cond(
                    ImageState.original_url != "",
                    rx.button(
                        rx.el.a(
                            rx.icon("file-down", size=16),
                            "Original",
                            href=ImageState.original_url,
                            reload_document=True,
                        ),
                        as_child=True,
                        variant="soft",
                        color_scheme="gray",
                        title="The file exactly as you uploaded it, with its metadata",
                    ),
                ),
                rx.cond(ImageState.is_owner, new_link_button()),
                wrap="wrap",
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        id="share-panel",
        width="100%",
    )


def new_link_button() -> rx.Component:
    return confirm_dialog(
        title="Make a new link?",
        description="The current short link stops working: anyone who has it will find nothing.",
        confirm_label="Make a new link",
        on_confirm=ShareState.new_share_link,
        trigger=rx.button(rx.icon("refresh-cw", size=16), "New link", variant="ghost"),
        color_scheme="iris",
    )


def byline() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.avatar(
                src=ImageState.owner_avatar,
                fallback=ImageState.owner_initials,
                size="3",
                radius="full",
            ),
            href=ImageState.owner_href,
            aria_label="Profile of " + ImageState.owner_name,
            tab_index=-1,
        ),
        rx.vstack(
            rx.link(ImageState.owner_name, href=ImageState.owner_href, weight="medium"),
            rx.el.time(
                "Uploaded ",
                ImageState.uploaded_ago,
                title=ImageState.uploaded_exact,
                font_size="var(--font-size-1)",
                color=rx.color("gray", 11),
                id="uploaded-at",
            ),
            spacing="0",
        ),
        align="center",
        spacing="3",
    )


def details_panel() -> rx.Component:
    return rx.vstack(
        rx.heading(ImageState.title, size="7", as_="h1", id="image-title"),
        byline(),
        rx.cond(
            ImageState.description != "",
            rx.text(ImageState.description, white_space="pre-wrap", id="image-description"),
        ),
        rx.cond(
            ImageState.location != "",
            rx.link(
                rx.hstack(rx.icon("map-pin", size=16), ImageState.location, spacing="1"),
                href=ImageState.location_href,
                color_scheme="gray",
                id="image-location",
                title="More images from here",
            ),
        ),
        tag_links(),
        rx.cond(
            ImageState.is_owner,
            rx.hstack(
                edit_image_button(ImageState.image_id, origin="image"),
                delete_image_button(ImageState.image_id, ImageState.title, origin="image"),
                spacing="2",
            ),
        ),
        share_panel(),
        camera_facts(),
        spacing="4",
        width="100%",
    )


def image_view() -> rx.Component:
    return rx.fragment(
        rx.grid(
            rx.box(
                picture(),
                border_radius="var(--radius-4)",
                overflow="hidden",
                background_color=rx.color("gray", 3),
                min_width="0",
            ),
            details_panel(),
            columns=rx.breakpoints(initial="1", md="minmax(0, 2fr) minmax(18rem, 1fr)"),
            gap="2rem",
            width="100%",
            align_items="start",
        ),
        comments_section(),
        rx.cond(ImageState.is_owner, owner_dialogs()),
    )


def loading() -> rx.Component:
    return rx.grid(
        rx.skeleton(rx.box(aspect_ratio="3 / 2", width="100%"), loading=True),
        rx.vstack(
            rx.skeleton(rx.heading("Loading the title", size="7"), loading=True),
            rx.skeleton(rx.text("Loading who uploaded it"), loading=True),
            rx.skeleton(rx.box(height="8rem", width="100%"), loading=True),
            spacing="4",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", md="minmax(0, 2fr) minmax(18rem, 1fr)"),
        gap="2rem",
        width="100%",
        aria_busy="true",
    )


def image_page() -> rx.Component:
    return page_layout(
        rx.cond(
            ImageState.loaded,
            rx.cond(ImageState.found, image_view(), not_found_message()),
            loading(),
        )
    )
