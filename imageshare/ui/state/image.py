"""The image page's state, one substate per concern (Reflex substates: child classes of
ImageState, which read and write its vars as their own):

ImageState      the image as this viewer may see it: picture, details, owner, facts.
CommentsState   its comments: the list, paging, posting, deleting, and the live watcher.
ShareState      its short link: the link shown, copying it, the owner making a new one.

ImageState.load (the page's on_load) reads the image and its first page of comments in
one database session and fills the substates in the same event, so the page arrives
whole: never the new image beside the previous one's comments or link.

While the page is open, a background task listens to the image's events and adds or
removes comments as others post or delete them. Reflex ties that task to the page
load that started it: navigating away, or closing the tab, cancels it.
"""

from __future__ import annotations

import logging
import uuid

import reflex as rx

from imageshare.comments import service as comments
from imageshare.comments.service import CommentPage
from imageshare.errors import NotFound, ServiceError
from imageshare.events import image_topic
from imageshare.images import detail as details
from imageshare.images.kinds import RenditionName
from imageshare.images.service import best_rendition
from imageshare.links import gallery_href, profile_href
from imageshare.sharing import service as sharing
from imageshare.ui import format
from imageshare.ui.state.session import SessionState
from imageshare.ui.state.views import CommentItem, PictureUrls, comment_item, picture_urls
from imageshare.wiring import installed

logger = logging.getLogger(__name__)

# How often a quiet watcher checks that its page is still the one on screen.
WATCH_CHECK_SECONDS = 30


def _image_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError):
        return None


class ImageState(rx.State):
    """The image itself, as this viewer may see it; the page's on_load."""

    image_id: str = ""
    loaded: bool = False
    found: bool = False
    title: str = ""
    description: str = ""
    location: str = ""
    tags: list[str] = []
    owner_name: str = ""
    owner_username: str = ""
    owner_avatar: str = ""
    uploaded_ago: str = ""
    uploaded_exact: str = ""
    dimensions: str = ""
    camera: list[tuple[str, str]] = []
    gps: str = ""
    is_owner: bool = False
    status: str = ""
    placeholder: str = ""
    large_src: str = ""
    medium_src: str = ""
    aspect_ratio: str = "3 / 2"
    original_url: str = ""

    @rx.var
    def page_title(self) -> str:
        if not self.loaded:
            return "imageshare"
        return f"{self.title} — imageshare" if self.found else "Page not found — imageshare"

    @rx.var
    def tag_links(self) -> list[tuple[str, str]]:
        """Each tag with the gallery of images so tagged."""
        return [(tag, gallery_href(tag=tag)) for tag in self.tags]

    @rx.var
    def location_href(self) -> str:
        return gallery_href(location=self.location)

    @rx.var
    def owner_initials(self) -> str:
        return format.initials(self.owner_name)

    @rx.var
    def owner_href(self) -> str:
        return profile_href(self.owner_username)

    async def _viewer(self):
        return await (await SessionState.of(self)).current_viewer()

    @rx.event
    async def load(self):
        """on_load: the image named in the URL, as this viewer may see it."""
        image_id = _image_id(self.router.page.params.get("image_id", ""))
        if image_id is None or str(image_id) != self.image_id:
            self.loaded = False  # another image: a skeleton, not the previous one
            yield
        viewer = await self._viewer()
        try:
            if image_id is None:
                raise NotFound("There is no image here.")

            def work(db):
                found = details.get_detail(db, viewer=viewer, image_id=image_id)
                page = comments.list_comments(db, viewer=viewer, image_id=image_id)
                count = comments.count_comments(db, viewer=viewer, image_id=image_id)
                return found, picture_urls(found, installed().media), page, count

            found, urls, page, count = await installed().run(work)
        except NotFound:
            self.image_id, self.found, self.loaded = "", False, True
            return
        self._show(found, urls)
        (await self.get_state(ShareState))._show_link(found.image.share_code)
        (await self.get_state(CommentsState))._show_first_page(page, count)
        self.found = self.loaded = True
        yield CommentsState.watch_comments

    def _show(self, found: details.ImageDetail, urls: PictureUrls) -> None:
        image, owner = found.image, found.owner
        self.image_id = str(image.id)
        self.title, self.description = image.title, image.description
        self.location = image.location
        self.tags = found.tags
        self.owner_name, self.owner_username = owner.display_name, owner.username
        self.owner_avatar = owner.avatar_url or ""
        self.uploaded_ago = format.ago(image.created_at)
        self.uploaded_exact = format.exact(image.created_at)
        self.dimensions = format.megapixels(image.width, image.height)
        self.camera = [
            (label, value)
            for label, value in (
                ("Taken", format.exact(image.taken_at) if image.taken_at else ""),
                ("Camera", " ".join(filter(None, (image.camera_make, image.camera_model)))),
                ("Lens", image.lens or ""),
                ("Exposure", format.exposure(image.exposure_time)),
                ("Aperture", format.aperture(image.aperture)),
                ("ISO", str(image.iso or "")),
                ("Focal length", format.focal_length(image.focal_length)),
            )
            if value
        ]
        gps = found.gps
        self.gps = f"{gps[0]:.5f}, {gps[1]:.5f}" if gps else ""
        self.is_owner = found.viewer_is_owner
        self.status = image.status.value
        self.placeholder = image.placeholder
        self.large_src, self.medium_src = urls.large, urls.medium
        self.original_url = urls.original
        # Space kept for the picture before it arrives, so the page does not jump.
        large = best_rendition(found.renditions, RenditionName.LARGE)
        self.aspect_ratio = f"{large.width} / {large.height}" if large is not None else "3 / 2"


class CommentsState(ImageState):
    """The image's comments: the pages loaded so far, the draft, and the live watcher."""

    comments: list[CommentItem] = []
    comments_after: str | None = None
    comment_count: int = 0
    draft: str = ""
    posting: bool = False

    @rx.var
    def draft_length(self) -> int:
        return len(self.draft.strip())

    @rx.event
    async def set_draft(self, value: str):
        # A draft is a comment's length at most, and only a signed-in person writes one.
        if (await SessionState.of(self)).signed_in:
            self.draft = str(value)[: comments.MAX_LENGTH]

    def _show_first_page(self, page: CommentPage, count: int) -> None:
        """The first page of another image's comments (from ImageState.load)."""
        self.comments = [comment_item(c) for c in page.items]
        self.comments_after = page.after
        self.comment_count = count
        self.draft = ""

    @rx.event
    async def post_comment(self, form: dict):
        viewer = await self._viewer()
        image_id, body = uuid.UUID(self.image_id), str(form.get("body", ""))
        self.posting = True
        yield
        try:
            added = await installed().run(
                lambda db: comments.add_comment(db, viewer=viewer, image_id=image_id, body=body)
            )
        except ServiceError as refused:
            self.posting = False
            yield rx.toast.error(str(refused))
            return
        self._add(comment_item(added))
        self.draft, self.posting = "", False
        yield rx.toast.success("Comment posted.")

    @rx.event
    async def delete_comment(self, comment_id: int):
        viewer = await self._viewer()
        try:
            await installed().run(
                lambda db: comments.delete_comment(db, viewer=viewer, comment_id=comment_id)
            )
        except NotFound:
            pass  # someone else deleted it a moment ago: the result is the same
        except ServiceError as refused:
            return rx.toast.error(str(refused))
        self._remove(comment_id)
        return rx.toast.success("Comment deleted.")

    @rx.event
    async def more_comments(self):
        viewer = await self._viewer()
        image_id, after = uuid.UUID(self.image_id), self.comments_after
        page = await installed().run(
            lambda db: comments.list_comments(db, viewer=viewer, image_id=image_id, after=after)
        )
        for item in page.items:
            self._add(comment_item(item), count=False)
        self.comments_after = page.after

    def _add(self, item: CommentItem, *, count: bool = True) -> None:
        if any(existing.id == item.id for existing in self.comments):
            return  # the poster hears of their own comment too
        if count:
            self.comment_count += 1
        # Comments beyond the loaded pages arrive with the next "more" page.
        if self.comments_after is None:
            self.comments = [*self.comments, item]

    def _remove(self, comment_id: int) -> None:
        remaining = [c for c in self.comments if c.id != comment_id]
        if len(remaining) != len(self.comments):
            self.comment_count = max(0, self.comment_count - 1)
        self.comments = remaining

    @rx.event(background=True)
    async def watch_comments(self):
        """Apply others' new and deleted comments while this page shows this image."""
        async with self:
            image_id = self.image_id
            viewer = await (await SessionState.of(self)).current_viewer()
        if not image_id:
            return
        async with installed().events.subscribe(image_topic(image_id)) as events:
            while True:
                event = await events.next(timeout=WATCH_CHECK_SECONDS)
                async with self:
                    if self.image_id != image_id:
                        return  # the tab moved on to another image
                if event is None:
                    continue
                await self._apply(event, viewer, image_id)

    async def _apply(self, event, viewer, image_id: str) -> None:
        comment_id = event.data.get("comment_id")
        if event.kind == comments.ADDED:
            try:
                added = await installed().run(
                    lambda db: comments.get_comment(db, viewer=viewer, comment_id=comment_id)
                )
            except NotFound:
                return  # deleted again already, or the image is no longer visible
            async with self:
                if self.image_id == image_id:
                    self._add(comment_item(added))
        elif event.kind == comments.DELETED:
            async with self:
                if self.image_id == image_id:
                    self._remove(comment_id)


class ShareState(ImageState):
    """The image's short link: shown to everyone who sees the image; the owner can
    replace it with a new one."""

    share_url: str = ""

    def _show_link(self, share_code: str) -> None:
        """Another image's link (from ImageState.load)."""
        self.share_url = sharing.share_url(installed().settings.public_url, share_code)

    @rx.event
    async def new_share_link(self):
        viewer = await self._viewer()
        image_id = uuid.UUID(self.image_id)
        try:
            code = await installed().run(
                lambda db: sharing.regenerate_code(db, viewer=viewer, image_id=image_id)
            )
        except ServiceError as refused:
            return rx.toast.error(str(refused))
        self.share_url = sharing.share_url(installed().settings.public_url, code)
        return rx.toast.success("New link made. The old one no longer works.")

    @rx.event
    def copy_share_url(self):
        return [rx.set_clipboard(self.share_url), rx.toast.success("Link copied.")]
