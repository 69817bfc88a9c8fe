"""/upload: pick or drop up to 20 images, describe them, watch them arrive."""

import reflex as rx

from imageshare.images.kinds import ACCEPTED_TYPES, READABLE_FORMATS
from imageshare.images.service import MAX_DESCRIPTION, MAX_LOCATION, MAX_TAGS, MAX_TITLE
from imageshare.ui import format
from imageshare.ui.components.layout import button_link, page_layout, signed_in_only
from imageshare.ui.components.visibility import visibility_radio
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.upload import MAX_FILES, UPLOAD_ID, UploadState, selected_files_info

# What the file picker offers; the server decides what a file is from its content.
ACCEPT = {content_type: list(endings) for content_type, endings in ACCEPTED_TYPES.items()}
STATUS_COLOURS = {
    "waiting": "gray", "uploading": "blue", "checking": "blue", "processing": "amber",
    "ready": "green", "duplicate": "gray", "refused": "red", "failed": "red", "cancelled": "gray",
}  # fmt: skip


def drop_zone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.icon("image-up", size=40, color=rx.color("accent", 9)),
            rx.text("Drop images here, or click to choose", weight="medium", size="3"),
            rx.text(
                f"{READABLE_FORMATS} · up to {MAX_FILES} at once",
                size="2",
                color_scheme="gray",
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=True,
        max_files=MAX_FILES,
        accept=ACCEPT,
        disabled=UploadState.busy,
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="var(--radius-4)",
        padding="2.5rem 1rem",
        width="100%",
        cursor="pointer",
        background_color=rx.color("accent", 2),
    )


def title_row(name: rx.Var[str]) -> rx.Component:
    return rx.hstack(
        rx.icon("file-image", size=18, color=rx.color("gray", 9), flex_shrink="0"),
        # The file name gives way on a phone, so the title field stays usable.
        rx.text(
            name,
            size="2",
            truncate=True,
            flex_shrink="0",
            width=rx.breakpoints(initial="7rem", sm="14rem"),
        ),  # fmt: skip
        rx.input(
            placeholder="Title (defaults to the file name)",
            value=UploadState.titles.get(name, ""),
            on_change=lambda value: UploadState.set_title(name, value),
            max_length=MAX_TITLE,
            width="100%",
            aria_label=f"Title for {name}",
        ),
        align="center",
        width="100%",
        class_name="selected-file",
    )


def field(label: str, control: rx.Component, **props) -> rx.Component:
    """A labelled form control; the label names the control for screen readers too."""
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", **props)


def batch_details() -> rx.Component:
    return rx.grid(
        field(
            "Description",
            rx.text_area(
                value=UploadState.description,
                on_change=UploadState.set_description,
                placeholder="What is in these pictures?",
                rows="3",
                width="100%",
                max_length=MAX_DESCRIPTION,
                aria_label="Description",
            ),  # fmt: skip
            grid_column="1 / -1",
        ),
        field(
            "Location",
            rx.input(
                value=UploadState.location,
                on_change=UploadState.set_location,
                placeholder="e.g. Honfleur, Normandy",
                max_length=MAX_LOCATION,
                width="100%",
                aria_label="Location",
            ),  # fmt: skip
        ),
        field(
            "Tags",
            rx.input(
                value=UploadState.tags,
                on_change=UploadState.set_tags,
                placeholder=f"sea, boats, dusk (up to {MAX_TAGS})",
                title=format.TAGS_HINT,
                width="100%",
                aria_label="Tags",
            ),  # fmt: skip
        ),
        field(
            "Who can see them",
            visibility_radio(UploadState.visibility, UploadState.set_visibility),
            grid_column="1 / -1",
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="4",
        width="100%",
    )


def result_row(row: rx.Var[dict]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="medium", size="2", truncate=True, flex="1"),
                rx.badge(
                    row["status"],
                    color_scheme=rx.match(
                        row["status"], *[(k, v) for k, v in STATUS_COLOURS.items()], "gray"
                    ),
                ),  # fmt: skip
                width="100%",
                align="center",
            ),
            rx.cond(
                (row["status"] == "uploading") | (row["status"] == "waiting"),
                rx.progress(value=row["percent"].to(int), max=100, width="100%"),
            ),
            rx.hstack(
                rx.text(row["message"], size="2", color_scheme="gray", class_name="row-message"),
                rx.cond(row["link"] != "", rx.link("Open image", href=row["link"], size="2")),
                justify="between",
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="upload-row",
        data_status=row["status"],
    )


def upload_page() -> rx.Component:
    return page_layout(
        rx.heading("Upload images", size="8", as_="h1", margin_bottom="0.5rem"),
        rx.text(
            "The original stays private; the gallery shows resized copies.",
            color_scheme="gray",
            margin_bottom="1.5rem",
        ),
        signed_in_only(
            rx.vstack(
                drop_zone(),
                rx.vstack(rx.foreach(rx.selected_files(UPLOAD_ID), title_row), width="100%"),
                batch_details(),
                rx.cond(
                    UploadState.error != "",
                    rx.callout(
                        UploadState.error, color_scheme="red", icon="triangle-alert", width="100%"
                    ),
                ),  # fmt: skip
                rx.hstack(
                    rx.button(
                        rx.icon("upload", size=16),
                        "Upload",
                        size="3",
                        loading=UploadState.busy,
                        on_click=UploadState.receive(
                            rx.upload_files_chunk(upload_id=UPLOAD_ID),
                            UploadState.titles,
                            selected_files_info(),
                        ),
                    ),
                    rx.cond(
                        UploadState.busy,
                        rx.button(
                            "Cancel",
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                            on_click=rx.cancel_upload(UPLOAD_ID),
                        ),  # fmt: skip
                        rx.button(
                            "Clear",
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                            on_click=UploadState.start_over,
                        ),  # fmt: skip
                    ),
                    spacing="3",
                ),
                rx.vstack(
                    rx.foreach(UploadState.rows, result_row), width="100%", id="upload-results"
                ),
                rx.cond(
                    UploadState.done,
                    button_link(
                        "Go to my images", href=SessionState.profile_url, variant="outline"
                    ),
                ),
                spacing="5",
                width="100%",
                max_width="48rem",
            ),
            width="48rem",
        ),
    )
