"""One confirmation dialog for every action that cannot be undone."""

from __future__ import annotations

import reflex as rx


def confirm_dialog(
    *,
    title,
    description,
    confirm_label: str,
    on_confirm,
    trigger: rx.Component | None = None,
    open=None,
    on_open_change=None,
    busy=False,
    color_scheme: str = "red",
    id: str | None = None,
) -> rx.Component:
    """Opened by `trigger`, or by the state through `open` / `on_open_change`.

    A state-driven dialog stays open while `busy` and is closed by its handler, so a
    failure can still be seen; a triggered one closes as soon as it is confirmed.
    """
    confirm = rx.button(confirm_label, color_scheme=color_scheme, loading=busy, on_click=on_confirm)
    content = rx.alert_dialog.content(
        rx.alert_dialog.title(title),
        rx.alert_dialog.description(description),
        rx.hstack(
            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
            confirm if open is not None else rx.alert_dialog.action(confirm),
            justify="end",
            spacing="3",
            margin_top="1rem",
        ),
        max_width="26rem",
        id=id,
    )
    if open is not None:
        return rx.alert_dialog.root(content, open=open, on_open_change=on_open_change)
    return rx.alert_dialog.root(rx.alert_dialog.trigger(trigger), content)
