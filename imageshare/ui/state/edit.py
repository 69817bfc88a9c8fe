"""Editing and deleting one of your images, from its page or from your profile.

One dialog of each kind per page, driven by this state; `origin` says which page
to refresh afterwards.
"""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from imageshare.auth.viewer import Viewer
from imageshare.errors import ServiceError
from imageshare.images import removal
from imageshare.images import service as images
from imageshare.images.kinds import Visibility
from imageshare.links import profile_href
from imageshare.ui.state.session import SessionState
from imageshare.wiring import installed


def remove_images(viewer: Viewer, image_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The viewer's images deleted with the app's storage (the edit dialog's Delete and
    the profile's bulk delete). Blocking: in a worker thread, where the app's storage
    may be built."""
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
    # What the dialog opened with (backend only): save sends only the fields changed.
    _shown: dict[str, str] = {}

    async def _viewer(self):
        return await (await SessionState.of(self)).current_viewer()

    def _refresh(self):
        # Imported here: those states import the components that use this one.
        from imageshare.ui.state.image import ImageState
        from imageshare.ui.state.profile import ProfileState

        return ImageState.load if self.origin == "image" else ProfileState.load

    @rx.event
    async def start_edit(self, image_id: str, origin: str):
        viewer = await self._viewer()
        try:
            wanted = uuid.UUID(str(image_id))
        except ValueError:
            return rx.toast.error("There is no such image.")

        def work(db):
            # get_own decides who may change it: NotFound or NotAllowed for anyone else.
            image = images.get_own(db, viewer=viewer, image_id=wanted)
            return image, images.tags_for(db, viewer=viewer, image_ids=[image.id])[image.id]

        try:
            image, tags = await installed().run(work)
        except ServiceError as refused:
            return rx.toast.error(str(refused))
        self.image_id, self.origin = str(wanted), "image" if origin == "image" else "profile"
        self.title, self.description, self.location = image.title, image.description, image.location
        self.tags = ", ".join(tags)
        self.visibility = image.visibility.value
        self._shown = {
            "title": self.title, "description": self.description, "location": self.location,
            "tags": self.tags, "visibility": self.visibility,
        }  # fmt: skip
        self.error, self.busy, self.editing = "", False, True

    @rx.event
    def set_editing(self, value: bool):
        self.editing = value

    @rx.event
    def set_visibility(self, value: str):
        if value in Visibility.__members__.values():
            self.visibility = str(value)

    @rx.event
    async def save(self, form: dict):
        viewer = await self._viewer()
        image_id = uuid.UUID(self.image_id)
        entered = {
            name: str(form.get(name, "")) for name in ("title", "description", "location", "tags")
        }
        entered["visibility"] = self.visibility
        # Only what the person changed: a field someone else changed meanwhile (in
        # another tab, through the API) keeps their change.
        patch = images.ImagePatch(
            **{name: value for name, value in entered.items() if value != self._shown.get(name)}
        )
        try:
            self.busy = True
            yield
            await installed().run(
                lambda db: images.update_image(db, viewer=viewer, image_id=image_id, patch=patch)
            )
        except ServiceError as refused:
            self.error, self.busy = str(refused), False
            return
        self.editing, self.busy = False, False
        yield rx.toast.success("Changes saved.")
        yield self._refresh()

    @rx.event
    def ask_delete(self, image_id: str, title: str, origin: str):
        # Shown in the dialog only; what is deleted is decided by the service.
        self.image_id, self.title = str(image_id)[:36], str(title)[: images.MAX_TITLE]
        self.origin = "image" if origin == "image" else "profile"
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
            await asyncio.to_thread(lambda: remove_images(viewer, [image_id]))
        except ServiceError as refused:
            async with self:
                self.busy = self.confirming_delete = False
            yield rx.toast.error(str(refused))
            return
        async with self:
            self.busy = self.confirming_delete = False
            refresh = self._refresh()
        yield rx.toast.success(f"“{title}” was deleted.")
        yield rx.redirect(profile_href(viewer.username)) if origin == "image" else refresh
