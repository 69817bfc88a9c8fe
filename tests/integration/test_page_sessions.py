"""An open page's powers end with its session: signing out in another tab (or the
session expiring) is noticed by the next change this tab makes once its proof is older
than SESSION_RECHECK_SECONDS, and at once when the tab's connection no longer carries
the cookie it was proved with (a tab token replayed without a cookie is anonymous).

Driven through the pages' own state objects and handlers, on a real database."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from imageshare.auth import sessions
from imageshare.auth.models import AccessToken
from imageshare.auth.viewer import ANONYMOUS
from imageshare.comments.models import Comment
from imageshare.ui.state.access_tokens import AccessTokensState
from imageshare.ui.state.image import CommentsState, ImageState
from imageshare.ui.state.session import RECENT_SIGN_IN_MINUTES, SessionState
from tests.harness.components import run_async
from tests.harness.rows import image, person

pytestmark = pytest.mark.integration


def tab(cookie: str) -> rx.State:
    root = rx.State(_reflex_internal_init=True)
    connect(root, cookie)
    return root


def connect(root: rx.State, cookie: str) -> None:
    """What a (re)connection's handshake gives the tab: its headers, this cookie."""
    root.router = RouterData.from_router_data({"headers": {"cookie": cookie}, "pathname": "/"})


def substate(root: rx.State, cls: type[rx.State]) -> Any:
    return root.get_substate(cls.get_full_name().split(".")[1:])


def run(handler: Any, state: rx.State, *args: Any) -> list[Any]:
    """Run an event handler to its end, as Reflex does; what it yielded or returned."""

    async def drive() -> list[Any]:
        result = handler.fn(state, *args)
        if inspect.isasyncgen(result):
            return [item async for item in result]
        return [await result] if inspect.isawaitable(result) else [result]

    return run_async(drive())


@pytest.fixture
def signed_in(app_db):
    """A person with a session, an image of theirs, and a tab that has loaded it."""
    with app_db.session() as db:
        owner = person(db, "ada")
        image_id = image(db, owner, "Harbour").id
        user = db.get(sessions.User, owner.user_id)
        token = sessions.start(db, user=user)
    root = tab(f"{sessions.COOKIE_NAME}={token}")
    session = substate(root, SessionState)
    run(SessionState.load_viewer, session)
    assert session.signed_in
    substate(root, ImageState).image_id = str(image_id)
    return app_db, root, token


def comments_in(app_db) -> list[str]:
    with app_db.session() as db:
        return [c.body for c in db.exec(select(Comment)).all()]


def test_a_tab_keeps_its_powers_while_its_session_lives(signed_in):
    app_db, root, _ = signed_in
    run(CommentsState.post_comment, substate(root, CommentsState), {"body": "first"})
    assert comments_in(app_db) == ["first"]


def test_signing_out_elsewhere_ends_the_tab_s_powers_once_its_proof_is_stale(signed_in):
    app_db, root, token = signed_in
    with app_db.session() as db:  # signed out in another tab
        sessions.end(db, token=token)
    session = substate(root, SessionState)
    viewer = run_async(session.current_viewer())
    assert viewer.user_id is not None  # still within SESSION_RECHECK_SECONDS (30 s)
    session._proved_at -= app_db.settings.session_recheck_seconds  # ... and now past it
    said = run(CommentsState.post_comment, substate(root, CommentsState), {"body": "late"})
    assert comments_in(app_db) == []
    assert "Sign in to comment" in repr(said)
    assert not session.signed_in and run_async(session.current_viewer()) == ANONYMOUS


def test_a_tab_token_replayed_without_its_cookie_is_anonymous_at_once(signed_in):
    app_db, root, _ = signed_in
    connect(root, "")  # the same tab token on a connection without the cookie
    run(CommentsState.post_comment, substate(root, CommentsState), {"body": "stolen"})
    assert comments_in(app_db) == []
    assert run_async(substate(root, SessionState).current_viewer()) == ANONYMOUS


def test_creating_a_token_asks_for_a_recent_sign_in(signed_in):
    app_db, root, _ = signed_in
    tokens, session = substate(root, AccessTokensState), substate(root, SessionState)
    session._signed_in_at -= (RECENT_SIGN_IN_MINUTES + 1) * 60  # signed in 11 minutes ago
    said = run(AccessTokensState.create, tokens, {"name": "script"})
    assert "sign in again first" in repr(said) and "/auth/login" in repr(said)
    session._signed_in_at += (RECENT_SIGN_IN_MINUTES + 1) * 60  # just signed in
    run(AccessTokensState.create, tokens, {"name": "script"})
    with app_db.session() as db:
        (made,) = db.exec(select(AccessToken)).all()
        assert made.name == "script" and made.expires_at is not None  # 90 days by default
