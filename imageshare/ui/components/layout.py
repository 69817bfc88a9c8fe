"""The frame around every page: top bar, content column, footer."""

import reflex as rx

from imageshare.ui.reflex_compat import NativeForm
from imageshare.ui.state.session import SessionState

CONTENT_WIDTH = "72rem"


def full_page_link(label: str, href: str, **button_props) -> rx.Component:
    """A button that loads `href` as a full page.

    Sign-in is a server route: a client-side navigation would stay
    inside the single-page app and never reach them. In Reflex 0.10 even rx.el.a
    compiles to React Router's Link, so ask it for document navigation.
    """
    return rx.button(document_link(label, href=href), as_child=True, **button_props)


def button_link(*children, href, **button_props) -> rx.Component:
    """A link that looks like a button: one element, one tab stop, client-side navigation."""
    return rx.button(rx.el.a(*children, href=href), as_child=True, **button_props)


def document_link(*children, href) -> rx.Component:
    """An <a> the browser follows with a full page load."""
    return rx.el.a(*children, href=href, reload_document=True)


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(
        label,
        href=href,
        size="3",
        weight="medium",
        color_scheme="gray",
        high_contrast=True,
        underline="hover",
    )


def my_avatar(*, size: str) -> rx.Component:
    """The signed-in person's picture, or their initials when there is none."""
    return rx.avatar(
        src=SessionState.avatar_url, fallback=SessionState.initials, size=size, radius="full"
    )


SIGN_OUT_FORM = "sign-out-form"


def sign_out_form() -> rx.Component:
    """The form that signs out (POST /auth/logout); buttons elsewhere name it by id."""
    # Not displayed (buttons elsewhere submit it): no box, no gap in the top bar.
    return NativeForm.create(action="/auth/logout", method="post", id=SIGN_OUT_FORM, display="none")


def user_menu() -> rx.Component:
    return rx.fragment(sign_out_form(), _account_menu())


def _account_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                my_avatar(size="2"),
                rx.text(SessionState.display_name, size="2", weight="medium", id="signed-in-name"),
                rx.icon("chevron-down", size=16),
                variant="ghost",
                color_scheme="gray",
                high_contrast=True,
                aria_label="Account menu",
            )
        ),
        rx.menu.content(
            # rx.el.a is React Router's Link: client-side navigation, one Slot deep.
            rx.menu.item(rx.el.a("My profile", href=SessionState.profile_url), as_child=True),
            rx.menu.item(rx.el.a("Settings", href="/settings"), as_child=True),
            rx.menu.separator(),
            # Sign-out is a POST to a server route (a GET must not sign anyone out): the
            # item submits the form beside the menu (the menu's content is unmounted
            # while closed), a full page load.
            rx.menu.item(
                rx.el.button("Sign out", type="submit", form=SIGN_OUT_FORM), as_child=True
            ),
            align="end",
        ),
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
                rx.cond(
                    SessionState.signed_in,
                    user_menu(),
                    full_page_link("Sign in", SessionState.login_url, size="2"),
                ),
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


def signed_in_only(content: rx.Component, *, width: str) -> rx.Component:
    """Content for signed-in people; a placeholder while the page learns who is here
    (anonymous visitors are sent to sign in by the page's on_load)."""
    return rx.cond(
        SessionState.signed_in,
        content,
        rx.skeleton(rx.box(height="14rem"), loading=True, max_width=width),
    )


def empty_state(icon: str, *children: rx.Component, id: str) -> rx.Component:
    """Where a list would be, when it has nothing to show: what and what to do next."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=48, color=rx.color("gray", 9)),
            *children,
            align="center",
            spacing="4",
            padding="3rem",
        ),
        border=f"1px dashed {rx.color('gray', 7)}",
        border_radius="var(--radius-4)",
        min_height="20rem",
        id=id,
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
