"""The grid of image cards shared by the gallery and profiles."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from imageshare.ui.components.layout import button_link
from imageshare.ui.state.views import Card

# The thumbnail's rendered width: half the screen on a phone, a grid cell elsewhere.
SIZES = "(max-width: 40rem) 50vw, (max-width: 64rem) 33vw, 18rem"


def thumbnail(card: rx.Var[Card]) -> rx.Component:
    """The thumbnail over its blurred placeholder, which shows until the pixels arrive."""
    return rx.cond(
        card.src != "",
        rx.el.img(
            src=card.src,
            src_set=card.srcset,
            sizes=SIZES,
            alt=card.title,
            loading="lazy",
            decoding="async",
            width="100%",
            height="100%",
            style={
                "objectFit": "cover",
                "backgroundImage": f"url({card.placeholder})",
                "backgroundSize": "cover",
                "backgroundPosition": "center",
                "display": "block",
            },
        ),
        rx.center(
            rx.vstack(
                rx.cond(
                    card.status == "failed",
                    rx.icon("image-off", size=28),
                    rx.spinner(size="3"),
                ),
                rx.text(
                    rx.cond(card.status == "failed", "Processing failed", "Processing…"),
                    size="2",
                ),
                align="center",
                spacing="2",
            ),
            height="100%",
            color=rx.color("gray", 11),
            title=card.failure_reason,
        ),
    )


def image_card(
    card: rx.Var[Card],
    *,
    show_owner: bool = True,
    overlay: Callable[[rx.Var[Card]], rx.Component] | None = None,
    footer: Callable[[rx.Var[Card]], rx.Component] | None = None,
) -> rx.Component:
    return rx.el.article(
        rx.box(
            rx.link(
                thumbnail(card),
                href=card.href,
                display="block",
                height="100%",
                tab_index=-1,  # the title link below is the one stop per card
                aria_hidden="true",
            ),
            overlay(card) if overlay else rx.fragment(),
            position="relative",
            aspect_ratio="1",
            overflow="hidden",
            border_radius="var(--radius-3)",
            background_color=rx.color("gray", 4),
        ),
        rx.vstack(
            rx.link(
                card.title,
                href=card.href,
                weight="medium",
                size="2",
                color_scheme="gray",
                high_contrast=True,
                truncate=True,
                max_width="100%",
                class_name="card-title",
            ),
            rx.cond(
                show_owner,
                rx.link(
                    card.owner_name,
                    href=card.owner_gallery_href,
                    size="1",
                    color_scheme="gray",
                    truncate=True,
                    max_width="100%",
                    title="More from " + card.owner_name,
                ),
            ),
            footer(card) if footer else rx.fragment(),
            spacing="1",
            padding_top="0.5rem",
            align="start",
            width="100%",
        ),
        class_name="image-card",
        min_width="0",
    )


def image_grid(cards: rx.Var[list[Card]], **card_options) -> rx.Component:
    return rx.grid(
        rx.foreach(cards, lambda card: image_card(card, **card_options)),
        columns=rx.breakpoints(initial="2", sm="3", md="4"),
        gap=rx.breakpoints(initial="0.75rem", sm="1.25rem"),
        width="100%",
        class_name="image-grid",
    )


def grid_skeleton(count: int = 8) -> rx.Component:
    """Where the cards will be, while they load: the page does not jump."""
    return rx.grid(
        *[
            rx.vstack(
                rx.skeleton(rx.box(aspect_ratio="1", width="100%"), loading=True),
                rx.skeleton(rx.text("Loading title"), loading=True),
                spacing="2",
            )
            for _ in range(count)
        ],
        columns=rx.breakpoints(initial="2", sm="3", md="4"),
        gap=rx.breakpoints(initial="0.75rem", sm="1.25rem"),
        width="100%",
        aria_busy="true",
        aria_label="Loading images",
    )


def pager(newer_href: rx.Var[str], older_href: rx.Var[str]) -> rx.Component:
    """Newer / Older links; the cursor is in the URL, so they work with back and reload."""
    return rx.cond(
        (newer_href != "") | (older_href != ""),
        rx.el.nav(
            rx.hstack(
                rx.cond(
                    newer_href != "",
                    button_link(
                        rx.icon("arrow-left", size=16),
                        "Newer",
                        href=newer_href,
                        variant="soft",
                        id="page-newer",
                    ),
                    rx.box(),
                ),
                rx.cond(
                    older_href != "",
                    button_link(
                        "Older",
                        rx.icon("arrow-right", size=16),
                        href=older_href,
                        variant="soft",
                        id="page-older",
                    ),
                    rx.box(),
                ),
                justify="between",
                width="100%",
            ),
            aria_label="Pages",
            margin_top="2rem",
        ),
    )
