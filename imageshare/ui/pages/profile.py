"""/u/[username]: a person and their images; for the owner, the place to manage them."""

from __future__ import annotations

import reflex as rx

from imageshare.ui.components.confirm import confirm_dialog
from imageshare.ui.components.edit_dialog import (
    delete_image_button,
    edit_image_button,
    owner_dialogs,
)
from imageshare.ui.components.image_grid import (
    grid_skeleton,
    image_grid,
    pager,
)
from imageshare.ui.components.layout import button_link, empty_state, page_layout
from imageshare.ui.components.visibility import visibility_badge
from imageshare.ui.pages.not_found import not_found_message
from imageshare.ui.state.profile import ProfileState
from imageshare.ui.state.views import Card


def header() -> rx.Component:
    return rx.hstack(
        rx.avatar(
            src=ProfileState.avatar_url, fallback=ProfileState.initials, size="7", radius="full"
        ),
        rx.vstack(
            rx.heading(ProfileState.display_name, size="8", as_="h1", id="profile-name"),
            rx.text("@", ProfileState.username, color_scheme="gray"),
            rx.hstack(
                rx.text(
                    ProfileState.image_count,
                    rx.cond(ProfileState.image_count == 1, " image", " images"),
                    id="profile-count",
                ),
                rx.text("·", color_scheme="gray"),
                rx.text("Joined ", ProfileState.joined, color_scheme="gray"),
                spacing="2",
                size="2",
                wrap="wrap",
            ),
            spacing="1",
            min_width="0",
        ),
        spacing="5",
        align="center",
        margin_bottom="2rem",
        wrap="wrap",
    )


def select_box(card: rx.Var[Card]) -> rx.Component:
    return rx.box(
        rx.checkbox(
            checked=ProfileState.selected.contains(card.id),
            on_change=lambda checked: ProfileState.toggle_selected(card.id, checked),
            aria_label="Select " + card.title,
            size="3",
        ),
        position="absolute",
        top="0.5rem",
        left="0.5rem",
        padding="0.3rem",
        line_height="0",
        border_radius="var(--radius-2)",
        background_color=rx.color("gray", 1, alpha=True),
        backdrop_filter="blur(4px)",
    )


def owner_footer(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        visibility_badge(card.visibility),
        rx.spacer(),
        edit_image_button(card.id, origin="profile", compact=True),
        delete_image_button(card.id, card.title, origin="profile", compact=True),
        width="100%",
        align="center",
        spacing="2",
    )


def selection_bar() -> rx.Component:
    return rx.cond(
        ProfileState.selected_count > 0,
        rx.hstack(
            rx.text(ProfileState.selected_count, " selected", weight="medium"),
            rx.spacer(),
            rx.button("Clear", variant="soft", color_scheme="gray",
                      on_click=ProfileState.clear_selection),
            rx.button(rx.icon("trash-2", size=16), "Delete selected", color_scheme="red",
                      on_click=ProfileState.set_confirming_bulk_delete(True)),
            align="center",
            spacing="3",
            padding="0.75rem 1rem",
            margin_bottom="1rem",
            border_radius="var(--radius-3)",
            background_color=rx.color("accent", 3),
            position="sticky",
            top="4rem",
            z_index="5",
            id="selection-bar",
        ),
    )  # fmt: skip


def bulk_delete_dialog() -> rx.Component:
    return confirm_dialog(
        title=rx.text(
            "Delete ", ProfileState.selected_count,
            rx.cond(ProfileState.selected_count == 1, " image?", " images?"),
        ),
        description="They are deleted for good, with their comments, and their links stop "
        "working.",
        confirm_label="Delete",
        on_confirm=ProfileState.delete_selected,
        open=ProfileState.confirming_bulk_delete,
        on_open_change=ProfileState.set_confirming_bulk_delete,
        busy=ProfileState.deleting,
        id="bulk-delete-dialog",
    )  # fmt: skip


def empty_profile() -> rx.Component:
    return empty_state(
        "image",
        rx.cond(
            ProfileState.is_owner,
            rx.fragment(
                rx.text("You have not uploaded anything yet.", size="3"),
                button_link("Upload images", href="/upload"),
            ),
            rx.text("No public images yet.", size="3", color_scheme="gray"),
        ),
        id="profile-empty",
    )


def images() -> rx.Component:
    return rx.cond(
        ProfileState.cards.length() > 0,
        rx.fragment(
            rx.cond(
                ProfileState.is_owner,
                rx.fragment(
                    selection_bar(),
                    image_grid(
                        ProfileState.cards, show_owner=False, overlay=select_box,
                        footer=owner_footer,
                    ),
                    owner_dialogs(),
                    bulk_delete_dialog(),
                ),
                image_grid(ProfileState.cards, show_owner=False),
            ),
            pager(ProfileState.newer_href, ProfileState.older_href),
        ),
        empty_profile(),
    )  # fmt: skip


def profile_page() -> rx.Component:
    return page_layout(
        rx.cond(
            ProfileState.loaded,
            rx.cond(
                ProfileState.found,
                rx.fragment(header(), images()),
                not_found_message(),
            ),
            rx.fragment(
                rx.hstack(
                    rx.skeleton(rx.box(width="5rem", height="5rem"), loading=True),
                    rx.skeleton(rx.heading("Loading the name", size="8"), loading=True),
                    spacing="5",
                    align="center",
                    margin_bottom="2rem",
                ),
                grid_skeleton(),
            ),
        )
    )
