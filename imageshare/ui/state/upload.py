"""The upload page's state: streams the files in, hands each to the pipeline, and
shows every file's progress: uploading → processing → ready (or why not).

The bytes arrive through Reflex's chunked upload (rx.upload_files_chunk) into a
background handler, so a large batch never holds the state lock or the event loop;
the pipeline does its blocking work in threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import PurePosixPath
from typing import Any

import reflex as rx
from reflex_components_core.core.upload import get_upload_files_context_var_data

from imageshare.auth.viewer import Viewer
from imageshare.images.kinds import Status, Visibility
from imageshare.images.pipeline import UploadOutcome, get_pipeline
from imageshare.images.service import ImageDetails, InvalidInput
from imageshare.images.uploads import ReceivedFile
from imageshare.settings import get_settings
from imageshare.ui.state.session import SessionState

logger = logging.getLogger(__name__)

UPLOAD_ID = "images"
MAX_FILES = 20
PROGRESS_EVERY_SECONDS = 0.25


def selected_files_info() -> rx.Var[list[dict]]:
    """Name and size of each picked file, known in the browser before anything is sent.

    rx.selected_files gives names only; this reads the same upload context for sizes,
    so each file can show its own progress. Sizes are the browser's claim: the server
    counts the real bytes.
    """
    return rx.Var(
        _js_expr=(
            f"(filesById[{json.dumps(UPLOAD_ID)}] ?? []).map((f) => "
            "({name: f.name, path: f.path ?? f.name, size: f.size}))"
        ),
        _var_type=list[dict],
        _var_data=get_upload_files_context_var_data(),
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

    @rx.event
    def set_title(self, name: str, value: str):
        self.titles[name] = value

    @rx.event
    def set_description(self, value: str):
        self.description = value

    @rx.event
    def set_location(self, value: str):
        self.location = value

    @rx.event
    def set_tags(self, value: str):
        self.tags = value

    @rx.event
    def set_visibility(self, value: str):
        self.visibility = value

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
            viewer: Viewer = (await self.get_state(SessionState)).viewer()
            batch = dict(description=self.description, location=self.location, tags=self.tags,
                         visibility=self.visibility)  # fmt: skip
        if viewer.is_anonymous:
            return  # someone posting to /_upload without signing in: 400, nothing kept
        try:
            # Checked once for the batch; each file gets its own title below.
            batch_details = ImageDetails.clean(title="untitled", **batch)
        except InvalidInput as invalid:
            async with self:
                self.error = str(invalid)
            return

        settings = get_settings()
        claimed = {
            _basename(str(m.get("path") or m.get("name"))): m.get("size") for m in meta or []
        }
        request_limit = MAX_FILES * settings.max_upload_bytes + 1_000_000
        board = _Board(self)
        async with self:
            self.busy, self.error = True, ""
            self.rows = [_row(name, "waiting", "Waiting to upload", size=claimed[name])
                         for name in claimed]  # fmt: skip

        def hand_over(received: ReceivedFile) -> asyncio.Task:
            """The file is in: check, store and process it while the next one streams."""
            received.finish()
            title = received.title_or_default(titles.get(received.filename))
            return asyncio.create_task(
                _store_and_process(board, received, title, batch_details, viewer)
            )

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
        async with self:
            self.busy = False
        yield rx.clear_selected_files(UPLOAD_ID)


async def _store_and_process(
    board: _Board, received: ReceivedFile, title: str, batch: ImageDetails, viewer: Viewer
) -> None:
    name = received.filename
    try:
        details = batch.with_title(title)
    except InvalidInput as invalid:
        received.discard()
        await board.update(name, "refused", f"{name} was not uploaded: {invalid}")
        return
    await board.update(name, "checking", "Checking…", received=received.size)
    pipeline = get_pipeline()
    try:
        outcome: UploadOutcome = await pipeline.upload(received, details, viewer)
    except Exception:
        logger.exception("storing upload %s failed", name)
        await board.update(name, "failed", f"{name} could not be stored. Please try again.")
        return
    if outcome.refused:
        await board.update(name, "refused", outcome.message)
        return
    if outcome.duplicate_of:
        await board.update(name, "duplicate", outcome.message, link=f"/i/{outcome.duplicate_of}")
        return
    await board.update(name, "processing", "Processing…", link=f"/i/{outcome.image_id}")
    status = await pipeline.render(outcome.image_id)
    if status == Status.READY:
        await board.update(name, "ready", "Ready", link=f"/i/{outcome.image_id}")
    else:
        await board.update(name, "failed", f"{name} could not be processed.")


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
