"""A profile page's state: who they are and their images; for the owner, management
(edit, delete one, select several and delete them together)."""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from imageshare.errors import InvalidInput, NotFound, ServiceError
from imageshare.images import listing, visibility
from imageshare.links import profile_href
from imageshare.ui import format
from imageshare.ui.state.edit import remove_images
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.views import Card, card
from imageshare.users import service as users
from imageshare.wiring import installed


class ProfileState(rx.State):
    loaded: bool = False
    found: bool = False
    username: str = ""
    display_name: str = ""
    avatar_url: str = ""
    joined: str = ""
    image_count: int = 0
    is_owner: bool = False
    cards: list[Card] = []
    newer_href: str = ""
    older_href: str = ""
    selected: list[str] = []
    confirming_bulk_delete: bool = False
    deleting: bool = False

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def page_title(self) -> str:
        if not self.loaded:
            return "imageshare"
        if not self.found:
            return "Page not found — imageshare"
        return f"{self.display_name} (@{self.username}) — imageshare"

    @rx.var
    def initials(self) -> str:
        return format.initials(self.display_name)

    async def _viewer(self):
        return await (await SessionState.of(self)).current_viewer()

    @rx.event
    async def load(self):
        username = self.router.page.params.get("username", "")
        if username != self.username:
            self.loaded = False  # someone else's page: a skeleton, not the previous one
            yield
        viewer = await self._viewer()
        params = self.router.url.query_parameters
        after, before = params.get("after") or None, params.get("before") or None

        def work(db):
            owner = users.by_username(db, username=username)
            try:
                page = listing.of_owner(db, viewer=viewer, owner=owner, after=after, before=before)
            except InvalidInput:
                page = listing.of_owner(db, viewer=viewer, owner=owner)
            count = listing.count_of_owner(db, viewer=viewer, owner=owner)
            # Built here, off the event loop: signing media URLs may fetch credentials.
            media = installed().media
            return owner, page, count, [card(item, media) for item in page.items]

        try:
            owner, page, count, cards = await installed().run(work)
        except NotFound:
            self.username, self.found, self.loaded = username, False, True
            return
        self.username, self.display_name = owner.username, owner.display_name
        self.avatar_url = owner.avatar_url or ""
        self.joined = format.day(owner.created_at)
        self.image_count = count
        self.is_owner = visibility.owns(viewer, owner.id)
        self.cards = cards
        base = profile_href(owner.username)
        self.newer_href = f"{base}?before={page.before}" if page.before else ""
        self.older_href = f"{base}?after={page.after}" if page.after else ""
        shown = {c.id for c in self.cards}
        self.selected = [image_id for image_id in self.selected if image_id in shown]
        self.found = self.loaded = True

    @rx.event
    def toggle_selected(self, image_id: str, checked: bool):
        # Only the owner selects, and only images on the page: never more than a page.
        if not self.is_owner or image_id not in {card.id for card in self.cards}:
            return
        if checked and image_id not in self.selected:
            self.selected = [*self.selected, image_id]
        elif not checked:
            self.selected = [i for i in self.selected if i != image_id]

    @rx.event
    def clear_selection(self):
        self.selected = []

    @rx.event
    def set_confirming_bulk_delete(self, value: bool):
        self.confirming_bulk_delete = value

    @rx.event(background=True)
    async def delete_selected(self):
        """In the background, like a single delete: many images take a while."""
        async with self:
            viewer = await self._viewer()
            ids = [uuid.UUID(image_id) for image_id in self.selected]
            self.deleting = True
        try:
            deleted = await asyncio.to_thread(lambda: remove_images(viewer, ids))
        except ServiceError as refused:
            async with self:
                self.deleting = self.confirming_bulk_delete = False
            yield rx.toast.error(str(refused))
            return
        async with self:
            self.deleting = self.confirming_bulk_delete = False
            self.selected = []
        yield rx.toast.success(f"{len(deleted)} image{'s' if len(deleted) != 1 else ''} deleted.")
        yield ProfileState.load
