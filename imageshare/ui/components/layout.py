"""The frame around every page: top bar, content column, footer."""

import reflex as rx

CONTENT_WIDTH = "72rem"


def full_page_link(label: str, href: str, **button_props) -> rx.Component:
    """A button that loads `href` as a full page.

    Sign-in and sign-out are server routes: a client-side navigation (rx.link,
    rx.redirect) would stay inside the single-page app and never reach them.
    """
    return rx.button(rx.el.a(label, href=href), as_child=True, **button_props)


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(
        label, href=href, size="3", weight="medium", color_scheme="gray", high_contrast=True, underline="hover"
    )


def top_bar() -> rx.Component:
    return rx.el.header(
        rx.flex(
            rx.link(
                rx.hstack(
                    rx.icon("aperture", size=24),
                    rx.text("imageshare", size="5", weight="bold"),
                    align="center",
                    spacing="2",
                ),
                href="/",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
                aria_label="imageshare home",
            ),
            rx.hstack(
                rx.el.nav(
                    rx.hstack(
                        nav_link("Gallery", "/"),
                        nav_link("Upload", "/upload"),
                        spacing="5",
                        align="center",
                    ),
                    aria_label="Main",
                ),
                rx.color_mode.button(variant="ghost", size="2", aria_label="Toggle dark mode"),
                full_page_link("Sign in", "/auth/login", size="2"),
                spacing="5",
                align="center",
            ),
            justify="between",
            align="center",
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            padding_x="1.25rem",
            padding_y="0.75rem",
            wrap="wrap",
            gap="0.75rem",
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        id="top-bar",
    )


def page_layout(*children: rx.Component) -> rx.Component:
    return rx.box(
        top_bar(),
        rx.el.main(
            *children,
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            padding_x="1.25rem",
            padding_y="2rem",
            width="100%",
            flex="1",
        ),
        rx.el.footer(
            rx.text("imageshare", size="1", color_scheme="gray"),
            text_align="center",
            padding_y="1.5rem",
        ),
        display="flex",
        flex_direction="column",
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )
