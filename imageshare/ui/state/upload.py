"""The upload page's state: streams the files in, submits each to the upload workflow
(images/uploads.py, the same as the API's), and shows every file's progress:
uploading → processing → ready (or why not).

The bytes arrive through Reflex's chunked upload (rx.upload_files_chunk) into a
background handler, so a large batch never holds the state lock or the event loop.
Processing happens elsewhere (the jobs tier): the page hears that an image is ready or
failed from its status event, as the API's `imageStatusChanged` does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from pathlib import PurePosixPath
from typing import Any

import reflex as rx

from imageshare.auth.viewer import Viewer
from imageshare.errors import InvalidInput, NotAllowed
from imageshare.events import Subscription, owner_topic
from imageshare.images import service as images
from imageshare.images import uploads
from imageshare.images.kinds import STATUS_CHANGED, Status, Visibility
from imageshare.images.received import ReceivedFile
from imageshare.images.service import (
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
    ImageDetails,
)
from imageshare.images.uploads import UploadDetails, UploadOutcome
from imageshare.links import image_href
from imageshare.ui.reflex_compat import UPLOAD_FILES_JS_NAME, upload_files_var
from imageshare.ui.state.session import SessionState
from imageshare.wiring import installed

logger = logging.getLogger(__name__)

UPLOAD_ID = "images"
MAX_FILES = 20
# Longest file name kept (the longest most file systems allow).
MAX_FILE_NAME = 255
# The tags field: as many tags as allowed, each as long as allowed, with separators.
MAX_TAGS_TEXT = MAX_TAGS * (MAX_TAG_LENGTH + 3)
PROGRESS_EVERY_SECONDS = 0.25
# How long the page follows processing before it leaves the rest to the profile page.
FOLLOW_PROCESSING_SECONDS = 300
# Events are the fast path; a look at the rows this often covers any that went astray.
RECHECK_SECONDS = 10


def selected_files_info() -> rx.Var[list[dict]]:
    """Name and size of each picked file, known in the browser before anything is sent.

    rx.selected_files gives names only; this reads the same upload context for sizes,
    so each file can show its own progress. Sizes are the browser's claim: the server
    counts the real bytes.
    """
    return upload_files_var(
        f"({UPLOAD_FILES_JS_NAME}[{json.dumps(UPLOAD_ID)}] ?? []).map((f) => "
        "({name: f.name, path: f.path ?? f.name, size: f.size}))",
        list[dict],
    )


def _basename(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


class UploadState(rx.State):
    titles: dict[str, str] = {}
    description: str = ""
    location: str = ""
    tags: str = ""
    visibility: str = Visibility.PUBLIC.value
    rows: list[dict[str, str]] = []
    busy: bool = False
    error: str = ""

    # What the browser sends is kept to what the form may hold: the fields' own limits
    # (the service refuses longer text with a sentence when the batch is sent), one title
    # per file of a batch, and nothing at all from a tab that is not signed in. Events
    # can be sent by hand, and the whole state is stored again after every one.

    async def _may_fill(self) -> bool:
        return (await SessionState.of(self)).signed_in

    @rx.event
    async def set_title(self, name: str, value: str):
        name = _basename(str(name))[:MAX_FILE_NAME]
        if not name or not await self._may_fill():
            return
        if name not in self.titles and len(self.titles) >= MAX_FILES:
            return  # more titles than a batch has files
        self.titles[name] = str(value)[:MAX_TITLE]

    @rx.event
    async def set_description(self, value: str):
        if await self._may_fill():
            self.description = str(value)[:MAX_DESCRIPTION]

    @rx.event
    async def set_location(self, value: str):
        if await self._may_fill():
            self.location = str(value)[:MAX_LOCATION]

    @rx.event
    async def set_tags(self, value: str):
        if await self._may_fill():
            self.tags = str(value)[:MAX_TAGS_TEXT]

    @rx.event
    async def set_visibility(self, value: str):
        if value in Visibility.__members__.values() and await self._may_fill():
            self.visibility = str(value)

    @rx.event
    def start_over(self):
        self.rows, self.titles, self.error = [], {}, ""
        return rx.clear_selected_files(UPLOAD_ID)

    @rx.var
    def done(self) -> bool:
        return bool(self.rows) and not self.busy

    @rx.event(background=True)
    async def receive(self, chunks: rx.UploadChunkIterator, titles: dict, meta: list):
        """Runs as the files stream in. Returning before the last chunk aborts the request."""
        async with self:
            viewer: Viewer = await (await SessionState.of(self)).current_viewer()
            batch = dict(description=self.description, location=self.location, tags=self.tags,
                         visibility=self.visibility)  # fmt: skip
        try:
            uploads.check_may_upload(viewer)
        except NotAllowed:
            return  # someone posting to /_upload without signing in: 400, nothing kept
        try:
            # Checked once for the batch, before any bytes: each file gets its own title.
            ImageDetails.clean(title="untitled", **batch)
        except InvalidInput as invalid:
            async with self:
                self.error = str(invalid)
            return

        settings = installed().settings
        claimed = {
            _basename(str(m.get("path") or m.get("name"))): m.get("size") for m in meta or []
        }
        request_limit = MAX_FILES * settings.max_upload_bytes + 1_000_000
        board = _Board(self)
        async with self:
            self.busy, self.error = True, ""
            self.rows = [_row(name, "waiting", "Waiting to upload", size=claimed[name])
                         for name in claimed]  # fmt: skip

        assert viewer.user_id is not None  # check_may_upload passed
        # Subscribed before the first file is submitted, so no status event is missed.
        async with installed().events.subscribe(owner_topic(viewer.user_id)) as events:
            processing: dict[str, str] = {}  # image id -> file name, until ready or failed

            def hand_over(received: ReceivedFile) -> asyncio.Task:
                """The file is in: check and store it while the next one streams."""
                received.finish()
                details = UploadDetails(title=titles.get(received.filename), **batch)
                return asyncio.create_task(_submit(board, received, details, viewer, processing))

            finished: list[asyncio.Task] = []
            current: ReceivedFile | None = None
            received_total, count, last_push = 0, 0, 0.0
            try:
                async for chunk in chunks:
                    name = _basename(chunk.filename)
                    if current is None or chunk.offset == 0 or current.filename != name:
                        if current is not None:
                            finished.append(hand_over(current))
                        count += 1
                        current = ReceivedFile(filename=name, limit=settings.max_upload_bytes)
                        if count > MAX_FILES:
                            current.refuse(f"only {MAX_FILES} files can be uploaded at once")
                        await board.update(name, "uploading", "Uploading…", received=0)
                    await asyncio.to_thread(current.write, chunk.data)
                    received_total += len(chunk.data)
                    if received_total > request_limit:
                        current.discard()
                        await board.update(name, "refused", "The upload is too large.")
                        return  # stop reading: Reflex answers 400 and drops the rest
                    if (now := time.monotonic()) - last_push > PROGRESS_EVERY_SECONDS:
                        last_push = now
                        await board.update(name, "uploading", "Uploading…", received=current.size)
                if current is not None:
                    finished.append(hand_over(current))
            except asyncio.CancelledError:
                if current is not None:
                    current.discard()
                await board.cancel_unfinished()
                raise
            await asyncio.gather(*finished)
            await _follow_processing(board, events, processing, viewer)
        async with self:
            self.busy = False
        yield rx.clear_selected_files(UPLOAD_ID)


async def _submit(
    board: _Board,
    received: ReceivedFile,
    details: UploadDetails,
    viewer: Viewer,
    processing: dict[str, str],
) -> None:
    name = received.filename
    await board.update(name, "checking", "Checking…", received=received.size)
    try:
        # The tier in the thread too: its first use builds the storage and queue clients.
        outcome: UploadOutcome = await asyncio.to_thread(
            lambda: installed().tier.uploads.submit(received, details, viewer)
        )
    except Exception:
        logger.exception("storing upload %s failed", name)
        await board.update(name, "failed", f"{name} could not be stored. Please try again.")
        return
    if outcome.refused:
        await board.update(name, "refused", outcome.message)
    elif outcome.duplicate_of:
        await board.update(
            name, "duplicate", outcome.message, link=image_href(outcome.duplicate_of)
        )
    else:
        assert outcome.image_id is not None  # neither refused nor a duplicate: stored
        processing[str(outcome.image_id)] = name
        await board.update(name, "processing", "Processing…", link=image_href(outcome.image_id))


async def _follow_processing(
    board: _Board, events: Subscription, processing: dict[str, str], viewer: Viewer
) -> None:
    """Mark each file ready or failed as its status event arrives (or a re-check of
    the rows finds it), until none is left or FOLLOW_PROCESSING_SECONDS pass."""
    deadline = time.monotonic() + FOLLOW_PROCESSING_SECONDS
    while processing and (left := deadline - time.monotonic()) > 0:
        event = await events.next(timeout=min(RECHECK_SECONDS, left))
        if event is None or event.kind == STATUS_CHANGED:
            await _show_finished(board, processing, viewer)
    for image_id, name in processing.items():
        await board.update(name, "processing",
                           "Still processing; it will appear on your profile when ready.",
                           link=image_href(image_id))  # fmt: skip


async def _show_finished(board: _Board, processing: dict[str, str], viewer: Viewer) -> None:
    ids = [uuid.UUID(i) for i in processing]
    rows = await installed().run(
        lambda db: [images.get_for_viewer(db, viewer=viewer, image_id=i) for i in ids]
    )
    for image_id, row in zip(ids, rows, strict=True):
        name = processing[str(image_id)]
        if row is None:
            processing.pop(str(image_id))  # deleted meanwhile, from another tab
            await board.update(name, "cancelled", f"{name} was deleted.")
        elif row.status == Status.READY:
            processing.pop(str(image_id))
            await board.update(name, "ready", "Ready", link=image_href(image_id))
        elif row.status == Status.FAILED:
            processing.pop(str(image_id))
            reason = row.failure_reason or "Processing failed."
            await board.update(name, "failed", f"{name} could not be processed. {reason}")


class _Board:
    """The rows of one upload. The handler and each file's task write to them; the
    lock keeps those writes one at a time (the state proxy is not safe to enter from
    two tasks at once)."""

    def __init__(self, state: UploadState):
        self.state = state
        self.lock = asyncio.Lock()

    async def update(self, name: str, status: str, message: str, **fields: Any) -> None:
        async with self.lock, self.state:
            rows = self.state.rows
            for row in rows:
                if row["name"] == name:
                    row.update(status=status, message=message)
                    if "received" in fields:
                        row["percent"] = _percent(fields["received"], row.get("size"))
                    if "link" in fields:
                        row["link"] = fields["link"]
                    break
            else:
                rows.append(_row(name, status, message, **fields))
            self.state.rows = list(rows)  # a new list, so Reflex sends the change

    async def cancel_unfinished(self) -> None:
        async with self.lock, self.state:
            self.state.busy = False
            for row in self.state.rows:
                if row["status"] in ("waiting", "uploading"):
                    row.update(status="cancelled", message="Cancelled; nothing was stored.")
            self.state.rows = list(self.state.rows)


def _row(name: str, status: str, message: str, *, size: Any = None, received: int = 0,
         link: str = "") -> dict[str, str]:  # fmt: skip
    return {"name": name, "status": status, "message": message, "link": link,
            "size": str(size or ""), "percent": _percent(received, size)}  # fmt: skip


def _percent(received: int, size: Any) -> str:
    try:
        total = int(size)
    except (TypeError, ValueError):
        return "0"
    return str(min(100, round(100 * received / total))) if total > 0 else "100"
