"""The settings page's access tokens: the list, making one, revoking one.

A new token's secret never enters this state. Reflex keeps a tab's state on the
server (in Redis with several instances) and hands all of it back when the tab
reloads, so a secret kept here would outlive the moment it is shown. It goes straight
to the browser instead, into NEW_TOKEN: page memory that a reload or leaving the page
forgets.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from imageshare.auth import access_tokens
from imageshare.auth.models import AccessToken
from imageshare.errors import NotFound, ServiceError
from imageshare.ui import format
from imageshare.ui.reflex_compat import ClientStateVar
from imageshare.ui.state.session import RECENT_SIGN_IN_MINUTES, SessionState
from imageshare.wiring import installed

# The secret just made, in the browser only; "" when there is none to show.
NEW_TOKEN = ClientStateVar.create("new_access_token", default="")


@dataclasses.dataclass(frozen=True)
class TokenItem:
    """One token in the list."""

    id: int
    name: str
    shown_as: str  # isk_AbCd1234…
    created_ago: str
    created_exact: str
    last_used_ago: str  # "never" until the API first sees it
    last_used_exact: str
    expiry: str  # "Expires 12 March 2027", "Never expires"


def token_item(token: AccessToken) -> TokenItem:
    used = token.last_used_at
    assert token.id is not None  # a stored token
    return TokenItem(
        id=token.id,
        name=token.name,
        shown_as=access_tokens.shown_as(token),
        created_ago=format.ago(token.created_at),
        created_exact=format.exact(token.created_at),
        last_used_ago=format.ago(used) if used else "never",
        last_used_exact=format.exact(used) if used else "",
        expiry=format.expiry(token.expires_at),
    )


class AccessTokensState(rx.State):
    tokens: list[TokenItem] = []
    loaded: bool = False
    name: str = ""
    lifetime: str = access_tokens.DEFAULT_LIFETIME
    creating: bool = False
    # Which token NEW_TOKEN shows, so revoking that one also hides its secret.
    _new_token_id: int | None = None

    @rx.var
    def token_count(self) -> int:
        return len(self.tokens)

    @rx.event
    async def set_name(self, value: str):
        if (await SessionState.of(self)).signed_in:
            self.name = str(value)[: access_tokens.MAX_NAME_LENGTH]

    async def _viewer(self):
        return await (await SessionState.of(self)).current_viewer()

    async def _reload(self, viewer) -> None:
        items = await installed().run(
            lambda db: [token_item(t) for t in access_tokens.list_for(db, viewer=viewer)]
        )
        self.tokens, self.loaded = items, True

    @rx.event
    async def load(self):
        """When the card appears, which is once the page knows who is signed in."""
        viewer = await self._viewer()
        if viewer.is_anonymous:
            self.tokens, self.loaded = [], False
            return
        self.name, self.creating = "", False
        await self._reload(viewer)

    @rx.event
    def set_lifetime(self, value: str):
        if value in access_tokens.LIFETIMES:
            self.lifetime = value

    @rx.event
    async def create(self, form: dict):
        session = await SessionState.of(self)
        viewer = await session.current_viewer()
        if not viewer.is_anonymous and not session.signed_in_recently():
            # A token outlives the session it is made in: making one asks for a fresh
            # sign-in, so a tab left open on a shared computer cannot mint one.
            yield rx.toast.info(
                "To create a token, sign in again first: your last sign-in was more than "
                f"{RECENT_SIGN_IN_MINUTES} minutes ago. You come back here after it."
            )
            yield rx.redirect(session.login_url)
            return
        name, lifetime = str(form.get("name", "")), self.lifetime
        self.creating = True
        yield

        def work(db):
            token, secret = access_tokens.create(db, viewer=viewer, name=name, lifetime=lifetime)
            return token.id, secret

        try:
            self._new_token_id, secret = await installed().run(work)
        except ServiceError as refused:
            self.creating = False
            yield rx.toast.error(str(refused))
            return
        self.name, self.creating = "", False
        # No toast: the callout with the secret is the answer, and it stays until dismissed.
        yield NEW_TOKEN.push(secret)
        await self._reload(viewer)

    @rx.event
    async def revoke(self, token_id: int):
        viewer = await self._viewer()
        try:
            await installed().run(
                lambda db: access_tokens.revoke(db, viewer=viewer, token_id=token_id)
            )
        except NotFound:
            pass  # revoked a moment ago, in another tab: the result is the same
        except ServiceError as refused:
            yield rx.toast.error(str(refused))
            return
        if token_id == self._new_token_id:
            yield NEW_TOKEN.push("")
        await self._reload(viewer)
        yield rx.toast.success("Token revoked. Anything still using it is refused from now on.")
