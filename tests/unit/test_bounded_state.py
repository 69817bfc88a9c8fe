"""What a tab's state may hold stays small whatever the browser sends: event handlers
that grow state keep to their fields' limits, a batch's number of files and a page's
images, and change nothing for a tab that is not signed in. (Events can be sent by hand,
and Reflex stores the whole state again after every one.)"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest
import reflex as rx

from imageshare.auth.access_tokens import MAX_NAME_LENGTH
from imageshare.comments.service import MAX_LENGTH as MAX_COMMENT
from imageshare.images.service import MAX_DESCRIPTION, MAX_LOCATION, MAX_TITLE
from imageshare.ui.state.access_tokens import AccessTokensState
from imageshare.ui.state.edit import EditState
from imageshare.ui.state.image import CommentsState
from imageshare.ui.state.profile import ProfileState
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.upload import MAX_FILES, MAX_TAGS_TEXT, UploadState
from imageshare.ui.state.views import Card
from tests.harness.components import run_async

MEGABYTE = "x" * 1_000_000  # about Reflex's largest message


def tab(*, signed_in: bool) -> rx.State:
    """A tab's whole state tree, as Reflex makes it for a new tab."""
    root = rx.State(_reflex_internal_init=True)
    session = substate(root, SessionState)
    session.signed_in, session._user_id = signed_in, (7 if signed_in else None)
    return root


def substate(root: rx.State, cls: type[rx.State]) -> Any:
    return root.get_substate(cls.get_full_name().split(".")[1:])


def send(state: rx.State, handler: Any, *args: Any) -> None:
    """Run an event handler as Reflex does, with the arguments a browser could send."""
    result = handler.fn(state, *args)
    if asyncio.iscoroutine(result):
        run_async(result)


def stored_size(root: rx.State) -> int:
    return len(pickle.dumps(root))


def test_the_upload_form_keeps_to_its_limits_whatever_is_sent():
    root = tab(signed_in=True)
    form = substate(root, UploadState)
    for n in range(1_000):  # a title for a thousand files that do not exist
        send(form, UploadState.set_title, f"{n}-{MEGABYTE[:300]}.jpg", MEGABYTE)
    send(form, UploadState.set_description, MEGABYTE)
    send(form, UploadState.set_location, MEGABYTE)
    send(form, UploadState.set_tags, MEGABYTE)
    send(form, UploadState.set_visibility, MEGABYTE)
    assert len(form.titles) == MAX_FILES
    assert all(len(name) <= 255 and len(t) == MAX_TITLE for name, t in form.titles.items())
    assert (len(form.description), len(form.location)) == (MAX_DESCRIPTION, MAX_LOCATION)
    assert len(form.tags) == MAX_TAGS_TEXT and form.visibility == "public"
    assert stored_size(root) < 200_000  # not the ~1 GB that was sent


def test_a_title_for_a_file_already_named_is_still_taken_at_the_limit():
    form = substate(tab(signed_in=True), UploadState)
    for n in range(MAX_FILES):
        send(form, UploadState.set_title, f"{n}.jpg", "a title")
    send(form, UploadState.set_title, "0.jpg", "changed")
    send(form, UploadState.set_title, "C:\\photos\\new.jpg", "one too many")
    send(form, UploadState.set_visibility, "unlisted")
    assert form.titles["0.jpg"] == "changed" and "new.jpg" not in form.titles
    assert form.visibility == "unlisted"


def test_a_tab_that_is_not_signed_in_changes_nothing():
    root = tab(signed_in=False)
    form, comments = substate(root, UploadState), substate(root, CommentsState)
    tokens = substate(root, AccessTokensState)
    before = stored_size(root)
    send(form, UploadState.set_title, "a.jpg", MEGABYTE)
    send(form, UploadState.set_description, MEGABYTE)
    send(comments, CommentsState.set_draft, MEGABYTE)
    send(tokens, AccessTokensState.set_name, MEGABYTE)
    assert form.titles == {} and form.description == "" and comments.draft == ""
    assert tokens.name == "" and stored_size(root) == before


def test_drafts_and_names_keep_to_their_fields():
    root = tab(signed_in=True)
    comments, tokens = substate(root, CommentsState), substate(root, AccessTokensState)
    send(comments, CommentsState.set_draft, MEGABYTE)
    send(tokens, AccessTokensState.set_name, MEGABYTE)
    edit = substate(root, EditState)
    send(edit, EditState.ask_delete, MEGABYTE, MEGABYTE, MEGABYTE)
    send(edit, EditState.set_visibility, MEGABYTE)
    assert (len(comments.draft), len(tokens.name)) == (MAX_COMMENT, MAX_NAME_LENGTH)
    assert (len(edit.image_id), len(edit.title), edit.origin) == (36, MAX_TITLE, "profile")
    assert edit.visibility == "public"


def _card(image_id: str) -> Card:
    return Card(id=image_id, href="/", title="t", src="", srcset="", placeholder="",
                owner_username="o", owner_name="O", owner_gallery_href="/",
                visibility="public", status="ready", failure_reason="")  # fmt: skip


@pytest.mark.parametrize("owner", [True, False])
def test_a_selection_never_holds_more_than_the_page(owner):
    profile = substate(tab(signed_in=True), ProfileState)
    profile.is_owner, profile.cards = owner, [_card(f"id-{n}") for n in range(3)]
    for n in range(10_000):
        send(profile, ProfileState.toggle_selected, f"made-up-{n}", True)
    for card in profile.cards:
        send(profile, ProfileState.toggle_selected, card.id, True)
        send(profile, ProfileState.toggle_selected, card.id, True)  # twice: once kept
    assert profile.selected == (["id-0", "id-1", "id-2"] if owner else [])
