"""Who can see an image, said the same way on every page: choices and badges."""

from __future__ import annotations

import reflex as rx

from imageshare.images.kinds import Visibility

# (value, name, what it means): the upload form and the edit dialog offer these.
CHOICES = [
    (Visibility.PUBLIC.value, "Public", "in the gallery and search"),
    (Visibility.UNLISTED.value, "Unlisted", "anyone with the link"),
    (Visibility.PRIVATE.value, "Private", "only you"),
]
_BADGE_LOOKS = {  # icon and colour
    Visibility.PUBLIC.value: ("globe", "green"),
    Visibility.UNLISTED.value: ("link", "amber"),
    Visibility.PRIVATE.value: ("lock", "red"),
}


def _badge(choice: str, name: str) -> rx.Component:
    icon, colour = _BADGE_LOOKS[choice]
    return rx.badge(rx.icon(icon, size=12), name, color_scheme=colour)


def visibility_badge(visibility: rx.Var[str]) -> rx.Component:
    public, *others = CHOICES
    return rx.match(
        visibility,
        *[(choice, _badge(choice, name)) for choice, name, _ in others],
        _badge(public[0], public[1]),
    )


def visibility_select(value: rx.Var[str], on_change) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Visibility"),
        rx.select.content(
            *[rx.select.item(f"{name} — {meaning}", value=choice)
              for choice, name, meaning in CHOICES]
        ),
        value=value,
        on_change=on_change,
    )  # fmt: skip


def visibility_radio(value: rx.Var[str], on_change) -> rx.Component:
    return rx.radio_group.root(
        rx.hstack(
            *[
                rx.el.label(
                    rx.radio_group.item(value=choice, aria_label=name),
                    rx.text(name, rx.text.span(f" ({meaning})", color_scheme="gray"), size="2"),
                    display="flex",
                    gap="0.4rem",
                    align_items="center",
                )
                for choice, name, meaning in CHOICES
            ],
            spacing="4",
            wrap="wrap",
        ),
        value=value,
        on_change=on_change,
    )
