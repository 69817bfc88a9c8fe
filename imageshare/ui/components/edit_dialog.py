"""The owner's dialogs: edit an image's details, or delete it after a confirmation."""

from __future__ import annotations

import reflex as rx

from imageshare.images.service import MAX_DESCRIPTION, MAX_LOCATION, MAX_TITLE
from imageshare.ui import format
from imageshare.ui.components.confirm import confirm_dialog
from imageshare.ui.components.visibility import visibility_select
from imageshare.ui.state.edit import EditState


def edit_image_button(image_id, *, origin: str, compact: bool = False) -> rx.Component:
    action = EditState.start_edit(image_id, origin)
    if compact:
        return rx.icon_button(
            rx.icon("pencil", size=16), variant="soft", size="1", on_click=action,
            aria_label="Edit", title="Edit",
        )  # fmt: skip
    return rx.button(rx.icon("pencil", size=16), "Edit", variant="soft", on_click=action)


def delete_image_button(image_id, title, *, origin: str, compact: bool = False) -> rx.Component:
    action = EditState.ask_delete(image_id, title, origin)
    if compact:
        return rx.icon_button(
            rx.icon("trash-2", size=16), variant="soft", color_scheme="red", size="1",
            on_click=action, aria_label="Delete", title="Delete",
        )  # fmt: skip
    return rx.button(
        rx.icon("trash-2", size=16), "Delete", variant="soft", color_scheme="red", on_click=action
    )


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="2", weight="medium"),
        control,
        display="flex",
        flex_direction="column",
        gap="0.35rem",
        width="100%",
    )


def edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit image"),
            rx.dialog.description(
                "Change how this image is described and who can see it.", size="2"
            ),
            rx.form(
                rx.vstack(
                    _field("Title", rx.input(name="title", default_value=EditState.title,
                                             required=True, max_length=MAX_TITLE)),
                    _field("Description", rx.text_area(
                        name="description", default_value=EditState.description,
                        max_length=MAX_DESCRIPTION, rows="3")),
                    _field("Location", rx.input(
                        name="location", default_value=EditState.location,
                        max_length=MAX_LOCATION, placeholder="e.g. Lisbon, Portugal")),
                    _field("Tags", rx.input(name="tags", default_value=EditState.tags,
                                            placeholder="comma, separated",
                                            title=format.TAGS_HINT)),
                    _field("Who can see it",
                           visibility_select(EditState.visibility, EditState.set_visibility)),
                    rx.cond(
                        EditState.error != "",
                        rx.callout(EditState.error, color_scheme="red", icon="triangle-alert",
                                   role="alert", width="100%"),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button("Save", type="submit", loading=EditState.busy),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="4",
                    margin_top="1rem",
                ),
                on_submit=EditState.save,
                reset_on_submit=False,
                # Another image's details: a fresh form, so its defaults apply.
                key=EditState.image_id,
            ),
            max_width="32rem",
            id="edit-dialog",
        ),
        open=EditState.editing,
        on_open_change=EditState.set_editing,
    )  # fmt: skip


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        title="Delete this image?",
        description=rx.text(
            "“",
            EditState.title,
            "” will be deleted for good, with its comments. Its links will stop working.",
        ),
        confirm_label="Delete",
        on_confirm=EditState.delete,
        open=EditState.confirming_delete,
        on_open_change=EditState.set_confirming_delete,
        busy=EditState.busy,
        id="delete-dialog",
    )


def owner_dialogs() -> rx.Component:
    return rx.fragment(edit_dialog(), delete_dialog())
