"""Domain events: something happened (a comment was added, an image became ready), and
whoever watches that topic hears of it — open image pages now, API subscriptions later.

Two implementations behind one small interface, picked from settings in one place:
in-process (one app process) and Redis pub/sub (many processes or machines).

Events carry ids, not content: a subscriber reads what it is allowed to see through the
services, so an event can never show anyone more than a page load would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
import redis.asyncio
from sqlalchemy import event as sa_event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from imageshare.settings import Settings

logger = logging.getLogger(__name__)

# A subscriber that falls this far behind loses events rather than memory.
QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Event:
    topic: str  # what it is about, e.g. "image:<id>"
    kind: str  # what happened, e.g. "comment_added"
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        raw = json.loads(text)
        return cls(topic=raw["topic"], kind=raw["kind"], data=raw.get("data") or {})


def image_topic(image_id: uuid.UUID | str) -> str:
    """Events about one image: its comments."""
    return f"image:{image_id}"


def owner_topic(user_id: int) -> str:
    """Events about one person's own images: their processing finished."""
    return f"owner:{user_id}"


# Events about the public gallery: an image joined it.
GALLERY_TOPIC = "gallery"


class Subscription(ABC):
    """Events on the subscribed topics, in the order they were published."""

    @abstractmethod
    async def next(self, timeout: float | None = None) -> Event | None:
        """The next event, or None when `timeout` seconds pass without one.

        Safe to cancel: no event is lost to a cancelled wait.
        """


class Events(ABC):
    @abstractmethod
    def publish(self, event: Event) -> None:
        """Tell every subscriber of event.topic. Callable from any thread."""

    @abstractmethod
    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        """`async with events.subscribe(topic) as subscription: ...`"""


class _Queue(Subscription):
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("dropped an event on %s: the subscriber is not keeping up", event.topic)

    async def next(self, timeout: float | None = None) -> Event | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class InProcessEvents(Events):
    """Subscribers in this process only: the default for a single instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_Queue]] = {}

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(event.topic, ()))
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, event)
            except RuntimeError:
                pass  # its event loop has closed; it is leaving

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        subscriber = _Queue(asyncio.get_running_loop())
        with self._lock:
            for topic in topics:
                self._subscribers.setdefault(topic, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            with self._lock:
                for topic in topics:
                    listeners = self._subscribers.get(topic, set())
                    listeners.discard(subscriber)
                    if not listeners:
                        self._subscribers.pop(topic, None)


class _RedisSubscription(Subscription):
    def __init__(self, pubsub: redis.asyncio.client.PubSub):
        self.pubsub = pubsub

    async def next(self, timeout: float | None = None) -> Event | None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            message = await self.pubsub.get_message(
                ignore_subscribe_messages=True, timeout=remaining
            )
            if message is not None and message["type"] == "message":
                try:
                    return Event.from_json(message["data"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("ignored a malformed event on %s", message["channel"])
                    continue
            if deadline is not None and loop.time() >= deadline:
                return None


class RedisEvents(Events):
    """Redis pub/sub: an event published by any app process reaches every subscriber."""

    PREFIX = "imageshare:events:"

    def __init__(self, url: str):
        self.url = url
        self._client = redis.Redis.from_url(url)

    def publish(self, event: Event) -> None:
        self._client.publish(self.PREFIX + event.topic, event.to_json())

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        client = redis.asyncio.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(*(self.PREFIX + topic for topic in topics))
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.aclose()
            await client.aclose()


def build_events(settings: Settings) -> Events:
    """The one place that chooses: Redis when REDIS_URL is set, else in-process."""
    if settings.redis_url:
        return RedisEvents(settings.redis_url)
    return InProcessEvents()


# -- publishing from services --------------------------------------------------------

_PENDING = "imageshare_pending_events"
# Where a session's committed events go: the app's Events, put there by whoever opens the
# session (db.session_scope(engine, events=…), which the wiring's sessions do), so the
# services keep calling publish_after_commit(db, event) and no module holds an Events.
_SINK = "imageshare_events"


def deliver_to(db: Session, events: Events) -> None:
    """Make `events` where this session's publish_after_commit events go."""
    db.info[_SINK] = events


def publish_after_commit(db: Session, event: Event) -> None:
    """Publish once the caller's transaction commits; never if it rolls back.

    A subscriber that hears of a comment must be able to read it. Savepoints inside the
    transaction (other services open them) neither publish early when released nor
    drop events when rolled back, other than the events written inside them.
    """
    pending = db.info.get(_PENDING)
    if pending is None:
        # Sessions are short-lived: the listeners go with the session.
        pending = db.info[_PENDING] = []
        sa_event.listen(db, "after_commit", _publish_pending)
        sa_event.listen(db, "after_soft_rollback", _forget_rolled_back)
    # The innermost transaction it was written in: a savepoint rolled back takes it along.
    pending.append((db.get_nested_transaction() or db.get_transaction(), event))


def _publish_pending(db: Session) -> None:
    if db.in_nested_transaction():
        return  # a savepoint released: the transaction around it can still roll back
    pending = db.info.get(_PENDING, [])
    sink: Events | None = db.info.get(_SINK)
    while pending:
        _, event = pending.pop(0)
        if sink is None:
            # A session opened without the app's events (a script, a test): say so.
            logger.warning("%s on %s not published: the session has no events", event.kind,
                           event.topic)  # fmt: skip
            continue
        try:
            sink.publish(event)
        except Exception:
            # The change itself is committed; open pages catch up at their next load.
            logger.exception("could not publish %s on %s", event.kind, event.topic)


def _forget_rolled_back(db: Session, rolled_back: SessionTransaction) -> None:
    pending = db.info.get(_PENDING, [])
    pending[:] = [(t, e) for t, e in pending if not _within(t, rolled_back)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
