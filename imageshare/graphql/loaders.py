"""DataLoaders: what a list of images needs per image (owner, tags, renditions,
comment count), fetched in one statement per kind for the whole list, whatever its
length. One set per request; lists prime them with what their own query returned."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from imageshare.images import detail
from imageshare.images.kinds import RenditionName
from imageshare.images.models import Rendition
from imageshare.users import service as users
from imageshare.users.models import User

K = TypeVar("K")
V = TypeVar("V")


# Runs database work off the event loop, in one transaction (the wiring's `run`).
Runner = Callable[[Callable[[Session], object]], Awaitable]


def _batched(
    run: Runner, fetch: Callable[[Session, list[K]], Mapping[K, V]], default: V = None
) -> DataLoader[K, V]:
    async def load(keys: Sequence[K]) -> list[V]:
        found = await run(lambda db: fetch(db, list(keys)))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, run: Runner) -> None:
        self.users: DataLoader[int, User | None] = _batched(
            run, lambda db, ids: users.get_many(db, user_ids=ids)
        )
        self.tags: DataLoader[uuid.UUID, list[str]] = _batched(
            run, lambda db, ids: detail.tags_by_image(db, image_ids=ids), default=[]
        )
        self.renditions: DataLoader[uuid.UUID, dict[RenditionName, Rendition]] = _batched(
            run, lambda db, ids: detail.renditions_by_image(db, image_ids=ids), default={}
        )
        self.comment_counts: DataLoader[uuid.UUID, int] = _batched(
            run, lambda db, ids: detail.comment_counts(db, image_ids=ids), default=0
        )
