"""The comments section of the image page."""

from __future__ import annotations

import reflex as rx

from imageshare.comments.service import MAX_LENGTH
from imageshare.ui.components.confirm import confirm_dialog
from imageshare.ui.components.layout import full_page_link
from imageshare.ui.state.image import CommentsState
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.views import CommentItem


def comment(item: rx.Var[CommentItem]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.avatar(
                src=item.author_avatar,
                fallback=item.author_initials,
                size="2",
                radius="full",
            ),
            rx.vstack(
                rx.hstack(
                    rx.link(
                        item.author_name,
                        href=item.author_href,
                        weight="medium",
                        size="2",
                    ),
                    rx.el.time(
                        item.ago,
                        title=item.exact,
                        font_size="var(--font-size-1)",
                        color=rx.color("gray", 11),
                    ),
                    spacing="2",
                    align="baseline",
                    wrap="wrap",
                ),
                # Text, never HTML: React escapes it. pre-wrap keeps the author's lines.
                rx.text(item.body, size="2", white_space="pre-wrap", word_break="break-word"),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.cond(
                item.can_delete,
                confirm_dialog(
                    title="Delete this comment?",
                    description="It disappears for everyone.",
                    confirm_label="Delete",
                    on_confirm=CommentsState.delete_comment(item.id),
                    trigger=rx.icon_button(
                        rx.icon("trash-2", size=16),
                        variant="ghost",
                        color_scheme="gray",
                        size="1",
                        aria_label="Delete comment",
                    ),
                ),
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="comment",
        list_style="none",
    )


def comment_form() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.form(
            rx.vstack(
                rx.text_area(
                    name="body",
                    value=CommentsState.draft,
                    on_change=CommentsState.set_draft,
                    placeholder="Add a comment…",
                    aria_label="Your comment",
                    max_length=MAX_LENGTH,
                    rows="3",
                    width="100%",
                    resize="vertical",
                ),
                rx.hstack(
                    rx.text(
                        CommentsState.draft_length.to_string(),
                        f" / {MAX_LENGTH:,}",
                        size="1",
                        color_scheme="gray",
                    ),
                    rx.button(
                        "Post comment",
                        type="submit",
                        loading=CommentsState.posting,
                        disabled=CommentsState.draft_length == 0,
                    ),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=CommentsState.post_comment,
            reset_on_submit=False,
            width="100%",
            id="comment-form",
        ),
        rx.hstack(
            rx.text("Want to join the conversation?", color_scheme="gray", size="2"),
            full_page_link("Sign in to comment", SessionState.login_url, variant="soft"),
            align="center",
            spacing="3",
            wrap="wrap",
            id="sign-in-to-comment",
        ),
    )


def comments_section() -> rx.Component:
    return rx.el.section(
        rx.heading(
            "Comments ",
            rx.text.span(CommentsState.comment_count, color=rx.color("gray", 10)),
            size="5",
            as_="h2",
            margin_bottom="0.5rem",
        ),
        rx.cond(
            CommentsState.comments.length() > 0,
            rx.el.ul(
                rx.foreach(CommentsState.comments, comment),
                padding="0",
                margin="0",
                id="comments",
            ),
            rx.text(
                "No comments yet.",
                color_scheme="gray",
                size="2",
                id="no-comments",
                padding_y="0.5rem",
            ),
        ),
        rx.cond(
            CommentsState.comments_after,
            rx.button(
                "Show more comments",
                variant="soft",
                on_click=CommentsState.more_comments,
                margin_top="0.75rem",
            ),
        ),
        rx.box(comment_form(), margin_top="1.25rem"),
        aria_label="Comments",
        width="100%",
        max_width="44rem",
        margin_top="2.5rem",
    )
