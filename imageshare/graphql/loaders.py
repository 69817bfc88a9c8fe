"""DataLoaders: what a list of images needs per image (owner, tags, renditions,
comment count), fetched in one statement per kind for the whole list, whatever its
length. One set per request; lists prime them with what their own query returned."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from imageshare.auth.viewer import Viewer
from imageshare.comments import service as comments
from imageshare.db import Runner
from imageshare.images import service as images
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Rendition
from imageshare.users import service as users
from imageshare.users.models import User

K = TypeVar("K")
V = TypeVar("V")


def _batched(
    run: Runner, fetch: Callable[[Session, list[K]], Mapping[K, V]], missing: Callable[[], V]
) -> DataLoader[K, V]:
    """A DataLoader over one batch query; `missing` makes the answer for a key the
    query did not return (a fresh value each time: answers are handed to callers)."""

    async def load(keys: Sequence[K]) -> list[V]:
        found = await run(lambda db: fetch(db, list(keys)))
        return [found[key] if key in found else missing() for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """One set per request and viewer: the batches answer what this viewer may see."""

    def __init__(self, run: Runner, viewer: Viewer) -> None:
        self.users: DataLoader[int, User | None] = _batched(
            run, lambda db, ids: users.get_many(db, user_ids=ids), missing=lambda: None
        )
        self.tags: DataLoader[uuid.UUID, list[str]] = _batched(
            run, lambda db, ids: images.tags_for(db, viewer=viewer, image_ids=ids), missing=list
        )
        self.renditions: DataLoader[uuid.UUID, dict[RenditionName, Rendition]] = _batched(
            run,
            lambda db, ids: images.renditions_for(db, viewer=viewer, image_ids=ids),
            missing=dict,
        )
        self.comment_counts: DataLoader[uuid.UUID, int] = _batched(
            run,
            lambda db, ids: comments.counts_by_image(db, viewer=viewer, image_ids=ids),
            missing=int,
        )
