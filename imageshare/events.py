"""Domain events: something happened (a comment was added, an image became ready), and
whoever watches that topic hears of it — open image pages now, API subscriptions later.

Two implementations behind one small interface, picked from settings in one place:
in-process (one app process) and Redis pub/sub (many processes or machines).

Events carry ids, not content: a subscriber reads what it is allowed to see through the
services, so an event can never show anyone more than a page load would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event as sa_event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from imageshare.settings import Settings

logger = logging.getLogger(__name__)

# A subscriber that falls this far behind loses its oldest events rather than memory.
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

    def close(self) -> None:
        """Let go of connections and threads; subscribers hear nothing more."""
        return  # in-process events hold neither


class _Inbox(Subscription):
    """One subscriber's events, handed in from any thread and read on its own loop.

    Bounded: a subscriber that falls QUEUE_LIMIT events behind loses its oldest ones, not
    the newest, and never holds up the others (the hand-in never waits). Events are hints
    to read the rows again, and the newest are what a late reader still needs; the pages
    also look at the rows on a timer, so a page that lagged catches up either way."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = QUEUE_LIMIT):
        self.loop = loop
        self._events: deque[Event] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._arrived = asyncio.Event()  # set and cleared on `loop` only
        self._wake_pending = False
        self.dropped = 0

    def offer(self, event: Event) -> None:
        """Callable from any thread; never waits for the subscriber."""
        with self._lock:
            if len(self._events) == self._events.maxlen:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    logger.warning(
                        "a subscriber of %s is not keeping up: dropped its %d oldest events",
                        event.topic, self.dropped)  # fmt: skip
            self._events.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # its event loop has closed; it is leaving

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._arrived.set()

    def _take(self) -> Event | None:
        with self._lock:
            if self._events:
                return self._events.popleft()
            self._arrived.clear()
            return None

    async def next(self, timeout: float | None = None) -> Event | None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while (event := self._take()) is None:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return self._take()
        return event


class InProcessEvents(Events):
    """Subscribers in this process only: the default for a single instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_Inbox]] = {}

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(event.topic, ()))
        for subscriber in subscribers:
            subscriber.offer(event)

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        subscriber = _Inbox(asyncio.get_running_loop())
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


# The name the app's Redis connections carry (CLIENT LIST shows it): the events' reader
# and their publisher's pool, so an operator can tell them from the pages' state.
CLIENT_NAME = "imageshare-events"
# How long a subscriber waits for Redis to confirm its first topic before giving up.
SUBSCRIBE_TIMEOUT = 10.0
# After the reader's connection drops: the first retry, and the longest wait between them.
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 5.0
# The publishing connections' pool: its size, and how long a publisher waits for one.
PUBLISH_CONNECTIONS, PUBLISH_WAIT = 8, 5.0
# The reader's connection is checked with a PING when it has been quiet this long.
HEALTH_CHECK_SECONDS = 15.0


class RedisEvents(Events):
    """Redis pub/sub: an event published by any app process reaches every subscriber.

    One connection per instance (so per process) reads every topic, whatever the number
    of subscribers: a subscriber registers an inbox here, the first one of a topic
    SUBSCRIBEs it on that connection and the last one to leave UNSUBSCRIBEs it, and one
    reader task hands each message to the inboxes of its topic. The reader runs on an
    event loop and thread of its own, started with the first subscriber, so subscribers
    may sit on any loop (the app's one, or a test's several). When the connection
    drops, the reader connects again, waiting longer each time up to RECONNECT_MAX, and
    subscribes every live topic again; subscribers keep their inboxes meanwhile (events
    published while it was away are missed, as the pages' timers are there to cover).

    Publishing uses a pool of at most PUBLISH_CONNECTIONS plain connections, shared by
    the threads that publish; all the connections carry CLIENT_NAME (or the name given),
    so one process holds at most 1 + PUBLISH_CONNECTIONS of them.
    """

    PREFIX = "imageshare:events:"

    def __init__(self, url: str, *, client_name: str = CLIENT_NAME):
        self.url, self.client_name = url, client_name
        # Threads publishing at once share at most PUBLISH_CONNECTIONS connections; one
        # more waits for a free one (up to PUBLISH_WAIT seconds) rather than opening it.
        self._pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=PUBLISH_CONNECTIONS,
            timeout=PUBLISH_WAIT,
            client_name=client_name,
        )
        self._client = redis.Redis(connection_pool=self._pool)
        self._lock = threading.Lock()  # guards starting and closing the reader
        self._reader: _Reader | None = None
        self._closed = False

    def publish(self, event: Event) -> None:
        self._client.publish(self.PREFIX + event.topic, event.to_json())

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        reader = self._running_reader()
        inbox = _Inbox(asyncio.get_running_loop())
        channels = [self.PREFIX + topic for topic in topics]
        joined = asyncio.run_coroutine_threadsafe(reader.join(inbox, channels), reader.loop)
        try:
            await asyncio.wrap_future(joined)
        except BaseException:
            reader.leave(inbox, channels)
            raise
        try:
            yield inbox
        finally:
            reader.leave(inbox, channels)

    def close(self) -> None:
        with self._lock:
            self._closed, reader, self._reader = True, self._reader, None
        if reader is not None:
            reader.stop()
        self._client.close()
        self._pool.disconnect()

    def _running_reader(self) -> _Reader:
        with self._lock:
            if self._closed:
                raise RuntimeError("these events are closed")
            if self._reader is None:
                self._reader = _Reader(self.url, self.client_name)
            return self._reader


class _Reader:
    """RedisEvents' one pub/sub connection and the task that reads it, on a thread and
    event loop of their own. Everything below `join` and `leave` runs on that loop, so
    who listens to what changes in one place and in one order."""

    def __init__(self, url: str, client_name: str):
        # No retries inside redis-py: a dropped connection surfaces here, and the reader
        # reconnects and subscribes every live topic itself.
        self._client = redis.asyncio.Redis.from_url(
            url,
            client_name=client_name,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=HEALTH_CHECK_SECONDS,
            socket_keepalive=True,
        )
        self._listeners: dict[str, set[_Inbox]] = {}
        self._confirmed: set[str] = set()  # channels Redis has confirmed on this connection
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._pubsub: redis.asyncio.client.PubSub | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="imageshare-events-reader", daemon=True
        )
        self._thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self._task = self.loop.create_task(self._read_forever())
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    # -- called from subscribers' threads ------------------------------------------------

    async def join(self, inbox: _Inbox, channels: list[str]) -> None:
        """Add `inbox` to `channels`; returns once Redis has confirmed every one."""
        new = []
        for channel in channels:
            listeners = self._listeners.setdefault(channel, set())
            if not listeners:
                new.append(channel)
            listeners.add(inbox)
        waits = []
        for channel in channels:
            if channel not in self._confirmed:
                waits.append(self.loop.create_future())
                self._waiting.setdefault(channel, []).append(waits[-1])
        if new and self._pubsub is not None and self._connected.is_set():
            try:
                await self._pubsub.subscribe(*new)
            except (redis.ConnectionError, OSError):
                pass  # the reader sees it too, reconnects, and subscribes them all
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), SUBSCRIBE_TIMEOUT)

    def leave(self, inbox: _Inbox, channels: list[str]) -> None:
        try:
            self.loop.call_soon_threadsafe(self._leave, inbox, channels)
        except RuntimeError:
            pass  # closed: nothing to leave

    def stop(self) -> None:
        async def shut() -> None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._disconnect()
            await self._client.aclose()

        try:
            asyncio.run_coroutine_threadsafe(shut(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
        except (RuntimeError, TimeoutError):
            pass  # already gone
        self._thread.join(10)

    # -- on the reader's loop ----------------------------------------------------------

    def _leave(self, inbox: _Inbox, channels: list[str]) -> None:
        gone = []
        for channel in channels:
            listeners = self._listeners.get(channel)
            if listeners is None:
                continue
            listeners.discard(inbox)
            if not listeners:
                del self._listeners[channel]
                gone.append(channel)
        if gone and self._pubsub is not None and self._connected.is_set():
            self.loop.create_task(self._unsubscribe(gone))

    async def _unsubscribe(self, channels: list[str]) -> None:
        channels = [c for c in channels if c not in self._listeners]  # nobody came back
        if channels and self._pubsub is not None:
            self._confirmed.difference_update(channels)
            with contextlib.suppress(redis.ConnectionError, OSError):
                await self._pubsub.unsubscribe(*channels)

    async def _read_forever(self) -> None:
        delay = RECONNECT_FIRST
        while True:
            try:
                await self._connect()
                delay = RECONNECT_FIRST
                await self._read()
            except Exception as error:
                # Whatever went wrong, the reader must not die: every subscriber of the
                # process would go deaf. Unexpected errors are logged in full.
                self._connected.clear()
                self._confirmed.clear()
                await self._disconnect()
                expected = isinstance(error, redis.ConnectionError | redis.TimeoutError | OSError)
                logger.log(logging.WARNING if expected else logging.ERROR,
                           "events: lost Redis (%s); connecting again in %.1f s", error, delay,
                           exc_info=None if expected else error)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
                self.reconnects += 1

    async def _connect(self) -> None:
        self._pubsub = self._client.pubsub()
        await self._pubsub.connect()
        self._connected.set()
        if self._listeners:
            await self._pubsub.subscribe(*self._listeners)

    async def _disconnect(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _read(self) -> None:
        assert self._pubsub is not None
        while True:
            # Not forever: redis-py checks the connection (a PING) between reads, so a
            # connection that died without a word is found out too.
            message = await self._pubsub.get_message(timeout=HEALTH_CHECK_SECONDS)
            if message is None:
                continue
            kind, channel = message["type"], _text(message["channel"])
            if kind == "subscribe":
                self._confirmed.add(channel)
                for waiting in self._waiting.pop(channel, []):
                    if not waiting.done():
                        waiting.set_result(None)
            elif kind == "message":
                try:
                    event = Event.from_json(message["data"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("ignored a malformed event on %s", channel)
                    continue
                for inbox in self._listeners.get(channel, ()):
                    inbox.offer(event)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


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
