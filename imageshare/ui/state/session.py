"""Who is signed in, as the pages see it.

Reflex state lives per browser tab and talks over a websocket, which cannot set
cookies. So the state only reads the session cookie (sent with the websocket's
handshake) and asks the sessions service; signing in and out are full page loads
to /auth/*, after which every tab re-derives the same answer.
"""

from __future__ import annotations

import hashlib
import json
import time

import reflex as rx

from imageshare.auth import sessions
from imageshare.auth.routes import login_url
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.links import profile_href
from imageshare.ui import format
from imageshare.wiring import installed

# Creating an access token asks for a sign-in at most this recent.
RECENT_SIGN_IN_MINUTES = 10


def _digest(token: str | None) -> str:
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def _lookup(token: str | None):
    def work(db):
        user = sessions.user_for_token(db, token=token)
        began = sessions.began_at(db, token=token)
        if user is None or began is None:
            return None
        return (user.id, user.username, user.display_name, user.avatar_url or ""), began

    return installed().run(work)


class SessionState(rx.State):
    signed_in: bool = False
    username: str = ""
    display_name: str = ""
    avatar_url: str = ""
    # Sign-in that comes back to the page the person is on.
    login_url: str = "/auth/login"
    _user_id: int | None = None
    # Which session cookie this tab's identity was proved from (a digest, backend only),
    # and when: a change re-proves it when the proof is older than
    # SESSION_RECHECK_SECONDS, or at once when the tab's connection carries another
    # cookie (or none: a tab token replayed without its cookie is anonymous).
    _proved_with: str = ""
    _proved_at: float = 0.0
    # When the person signed in (their session began), for what asks for a recent one.
    _signed_in_at: float = 0.0

    @rx.var
    def initials(self) -> str:
        return format.initials(self.display_name)

    @rx.var
    def profile_url(self) -> str:
        return profile_href(self.username)

    def _current_path(self) -> str:
        url = self.router.url
        # The static build serves /settings as /settings/; keep the address people typed.
        path = url.path.rstrip("/") or "/"
        return f"{path}?{url.query}" if url.query else path

    def viewer(self) -> Viewer:
        """The Viewer every service call from the pages passes along."""
        if self._user_id is None:
            return ANONYMOUS
        return Viewer(user_id=self._user_id, username=self.username)

    @staticmethod
    async def of(state: rx.State) -> SessionState:
        """The tab's session state, from any other state of the tab."""
        session = await state.get_state(SessionState)
        assert isinstance(session, SessionState)
        return session

    async def current_viewer(self) -> Viewer:
        """The viewer for a change: as viewer(), with the session proved again when the
        proof is stale or the connection's cookie is not the one it was proved with, so
        that signing out anywhere ends this tab's powers too."""
        if self._user_id is None:
            return ANONYMOUS
        token = sessions.token_from_cookie_header(self.router.headers.cookie)
        recheck = installed().settings.session_recheck_seconds
        if _digest(token) != self._proved_with or time.time() - self._proved_at >= recheck:
            await self._prove(token)
        return self.viewer()

    @rx.event
    async def load_viewer(self):
        """Run on every page load: the cookie decides, not what this tab remembered."""
        self.login_url = login_url(self._current_path())
        await self._prove(sessions.token_from_cookie_header(self.router.headers.cookie))

    def signed_in_recently(self) -> bool:
        """Signed in within RECENT_SIGN_IN_MINUTES (as proved last)."""
        age = time.time() - self._signed_in_at
        return self.signed_in and age <= RECENT_SIGN_IN_MINUTES * 60

    async def _prove(self, token: str | None) -> None:
        found = await _lookup(token)
        self._proved_with, self._proved_at = _digest(token), time.time()
        if found is None:
            self._user_id, self.signed_in, self._signed_in_at = None, False, 0.0
            self.username = self.display_name = self.avatar_url = ""
        else:
            (self._user_id, self.username, self.display_name, self.avatar_url), began = found
            self.signed_in, self._signed_in_at = True, began.timestamp()

    @rx.event
    async def require_sign_in(self):
        """on_load of pages for signed-in people: send anyone else to sign in, then back."""
        # @rx.event types the handler as an event spec; called here it runs as a method.
        await self.load_viewer()  # type: ignore[operator]
        if not self.signed_in:
            # A full page load: /auth/login is a server route, outside the page router.
            return rx.call_script(f"window.location.assign({json.dumps(self.login_url)})")
