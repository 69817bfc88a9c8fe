"""The gallery's state: one page of public images, narrowed by the filters in the URL.

The URL is the truth: filters and the page position (?after= / ?before= cursors) are
read from it at every load, so reload, back and forward show the same page.
"""

from __future__ import annotations

import reflex as rx

from imageshare.errors import InvalidInput
from imageshare.images import listing
from imageshare.links import gallery_href
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.views import Card, card
from imageshare.wiring import installed


class GalleryState(rx.State):
    cards: list[Card] = []
    loaded: bool = False
    # The filters of the page on screen, as in its URL.
    tag: str = ""
    location: str = ""
    user: str = ""
    q: str = ""
    newer_href: str = ""
    older_href: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.tag or self.location or self.user or self.q)

    def _href(self, **changes: str) -> str:
        current = {"tag": self.tag, "location": self.location, "user": self.user, "q": self.q}
        return gallery_href(**(current | changes))

    @rx.var
    def without_tag(self) -> str:
        return self._href(tag="")

    @rx.var
    def without_location(self) -> str:
        return self._href(location="")

    @rx.var
    def without_user(self) -> str:
        return self._href(user="")

    @rx.var
    def without_q(self) -> str:
        return self._href(q="")

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters
        filters = listing.Filters.clean(
            tag=params.get("tag", ""),
            location=params.get("location", ""),
            uploader=params.get("user", ""),
            search=params.get("q", ""),
        )
        self.tag, self.location = filters.tag, filters.location
        self.user, self.q = filters.uploader, filters.search
        viewer = await (await SessionState.of(self)).current_viewer()
        after, before = params.get("after") or None, params.get("before") or None

        def work(db):
            # Cards are built here, in the worker thread: signing media URLs may have to
            # fetch credentials (S3 on ECS), which must not happen on the event loop.
            try:
                page, notice = (
                    listing.gallery(db, viewer=viewer, filters=filters, after=after, before=before),
                    None,
                )
            except InvalidInput as invalid:
                page, notice = listing.gallery(db, viewer=viewer, filters=filters), str(invalid)
            media = installed().media
            return [card(item, media) for item in page.items], page, notice

        self.cards, page, notice = await installed().run(work)
        self.newer_href = self._href(before=page.before) if page.before else ""
        self.older_href = self._href(after=page.after) if page.after else ""
        self.loaded = True
        if notice:
            return rx.toast.warning(notice)

    @rx.event
    def search(self, form: dict):
        """The search box: a new first page with the words in the URL."""
        return rx.redirect(self._href(q=" ".join(str(form.get("q", "")).split())))
