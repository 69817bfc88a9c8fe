"""Editing and deleting one of your images, from its page or from your profile.

One dialog of each kind per page, driven by this state; `origin` says which page
to refresh afterwards.
"""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from imageshare.errors import ServiceError
from imageshare.images import detail as details
from imageshare.images import removal
from imageshare.images import service as images
from imageshare.images.kinds import Visibility
from imageshare.ui.state.session import SessionState
from imageshare.wiring import installed


def _remove(viewer, image_ids):
    """Blocking (storage): in a worker thread, where the app's storage may be built."""
    app = installed()
    return removal.remove_images(viewer, image_ids, storage=app.storage, sessions=app.session)


class EditState(rx.State):
    editing: bool = False
    confirming_delete: bool = False
    image_id: str = ""
    origin: str = ""
    title: str = ""
    description: str = ""
    location: str = ""
    tags: str = ""
    visibility: str = Visibility.PUBLIC.value
    busy: bool = False
    error: str = ""

    async def _viewer(self):
        return (await self.get_state(SessionState)).viewer()

    def _refresh(self):
        # Imported here: those states import the components that use this one.
        from imageshare.ui.state.image import ImageState
        from imageshare.ui.state.profile import ProfileState

        return ImageState.load if self.origin == "image" else ProfileState.load

    @rx.event
    async def start_edit(self, image_id: str, origin: str):
        viewer = await self._viewer()

        def work(db):
            # get_own decides who may change it: NotFound or NotAllowed for anyone else.
            image = images.get_own(db, viewer=viewer, image_id=uuid.UUID(image_id))
            return image, details.tags_of(db, image_id=image.id)

        try:
            image, tags = await installed().run(work)
        except ServiceError as refused:
            return rx.toast.error(str(refused))
        self.image_id, self.origin = image_id, origin
        self.title, self.description, self.location = image.title, image.description, image.location
        self.tags = ", ".join(tags)
        self.visibility = image.visibility.value
        self.error, self.busy, self.editing = "", False, True

    @rx.event
    def set_editing(self, value: bool):
        self.editing = value

    @rx.event
    def set_visibility(self, value: str):
        self.visibility = value

    @rx.event
    async def save(self, form: dict):
        viewer = await self._viewer()
        image_id = uuid.UUID(self.image_id)
        try:
            cleaned = images.ImageDetails.clean(
                title=str(form.get("title", "")),
                description=str(form.get("description", "")),
                location=str(form.get("location", "")),
                tags=str(form.get("tags", "")),
                visibility=self.visibility,
            )
            self.busy = True
            yield
            await installed().run(
                lambda db: images.update_details(
                    db, viewer=viewer, image_id=image_id, details=cleaned
                )
            )
        except ServiceError as refused:
            self.error, self.busy = str(refused), False
            return
        self.editing, self.busy = False, False
        yield rx.toast.success("Changes saved.")
        yield self._refresh()

    @rx.event
    def ask_delete(self, image_id: str, title: str, origin: str):
        self.image_id, self.title, self.origin = image_id, title, origin
        self.error, self.busy, self.confirming_delete = "", False, True

    @rx.event
    def set_confirming_delete(self, value: bool):
        self.confirming_delete = value

    @rx.event(background=True)
    async def delete(self):
        """In the background: deleting objects takes a while, and a normal handler would
        hold this tab's state lock (10 s at most with Redis) for all of it."""
        async with self:
            viewer = await self._viewer()
            image_id, title, origin = uuid.UUID(self.image_id), self.title, self.origin
            self.busy = True
        try:
            await asyncio.to_thread(lambda: _remove(viewer, [image_id]))
        except ServiceError as refused:
            async with self:
                self.busy = self.confirming_delete = False
            yield rx.toast.error(str(refused))
            return
        async with self:
            self.busy = self.confirming_delete = False
            refresh = self._refresh()
        yield rx.toast.success(f"“{title}” was deleted.")
        yield rx.redirect(f"/u/{viewer.username}") if origin == "image" else refresh
