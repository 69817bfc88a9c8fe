"""Events through Redis share one pub/sub connection per process, whatever the number of
subscribers (imageshare/events.py): what that connection subscribes, how it comes back
after Redis drops it, and that a subscriber who does not read holds up no one else.

Connections are counted by the client name each test gives its RedisEvents, so other
users of the same Redis do not disturb the counts."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

import pytest
import redis

from imageshare.events import PUBLISH_CONNECTIONS, QUEUE_LIMIT, Event, RedisEvents, Subscription
from tests.harness.components import run_async

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# More threads than the publishing pool has connections: they share them.
PUBLISHING_THREADS = 2 * PUBLISH_CONNECTIONS


@pytest.fixture
def admin() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not answering at {REDIS_URL}: {error}", pytrace=False)
    return client


@pytest.fixture
def events():
    opened = RedisEvents(REDIS_URL, client_name=f"imageshare-events-test-{uuid.uuid4().hex[:12]}")
    yield opened
    opened.close()


def clients(admin: redis.Redis, name: str) -> list[dict[str, Any]]:
    return [c for c in admin.client_list() if c.get("name") == name]


def readers(admin: redis.Redis, name: str) -> list[dict[str, Any]]:
    """The named connections in pub/sub mode."""
    return [c for c in clients(admin, name) if "P" in c["flags"] or int(c.get("sub", 0))]


def channels(admin: redis.Redis, topic_prefix: str) -> set[str]:
    found = admin.pubsub_channels(RedisEvents.PREFIX + topic_prefix + "*")
    return {c.decode()[len(RedisEvents.PREFIX) :] for c in found}


def eventually(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


async def drain(subscription: Subscription) -> list[Event]:
    received = []
    while (event := await subscription.next(timeout=0.2)) is not None:
        received.append(event)
    return received


def test_a_thousand_subscriptions_use_one_reader_and_each_hears_its_own(admin, events):
    run = uuid.uuid4().hex[:8]
    shared = [f"fanout-{run}-shared-{n}" for n in range(4)]
    # Every tenth subscriber watches one of four shared topics; the rest a topic each.
    topics = [shared[i % 4] if i % 10 == 0 else f"fanout-{run}-own-{i}" for i in range(1000)]

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            subs = [await stack.enter_async_context(events.subscribe(t)) for t in topics]
            assert len(clients(admin, events.client_name)) == 1
            assert len(readers(admin, events.client_name)) == 1
            assert channels(admin, f"fanout-{run}-") == set(topics)  # 904 channels
            ((_, redis_subscribers),) = admin.pubsub_numsub(RedisEvents.PREFIX + shared[0])
            assert redis_subscribers == 1  # for its 25 subscribers here

            # Published from several threads at once, as request handlers do.
            def publish(topic: str) -> None:
                events.publish(Event(topic, "happened", {"topic": topic}))

            with ThreadPoolExecutor(PUBLISHING_THREADS) as pool:
                list(pool.map(publish, sorted(set(topics))))
            for topic, subscription in zip(topics, subs, strict=True):
                expected = Event(topic, "happened", {"topic": topic})
                assert await subscription.next(timeout=5) == expected
            await asyncio.sleep(0.3)
            assert [s for s in subs if await s.next(timeout=0) is not None] == [], "twice"
            named = clients(admin, events.client_name)
            assert len(named) <= 1 + PUBLISH_CONNECTIONS, named

        # All left: every topic unsubscribed in Redis.
        eventually(lambda: not channels(admin, f"fanout-{run}-"))

    run_async(scenario())


def test_redis_hears_of_a_topic_until_its_last_subscriber_leaves(admin, events):
    topic, other = f"fanout-{uuid.uuid4().hex[:8]}", f"fanout-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        async with events.subscribe(other) as stays:
            async with events.subscribe(topic):
                async with events.subscribe(topic):
                    assert channels(admin, topic) == {topic}
                await asyncio.sleep(0.3)
                assert channels(admin, topic) == {topic}, "one subscriber is still here"
            await asyncio.to_thread(eventually, lambda: not channels(admin, topic))
            assert channels(admin, other) == {other}
            # And the topic can be subscribed again.
            async with events.subscribe(topic) as again:
                events.publish(Event(topic, "back"))
                assert await again.next(timeout=5) == Event(topic, "back")
            events.publish(Event(other, "still"))
            assert await stays.next(timeout=5) == Event(other, "still")

    run_async(scenario())


def test_a_dropped_reader_connection_comes_back_with_its_topics(admin, events):
    topics = [f"fanout-{uuid.uuid4().hex[:8]}" for _ in range(3)]

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            subs = [await stack.enter_async_context(events.subscribe(t)) for t in topics]
            (reader,) = readers(admin, events.client_name)
            admin.execute_command("CLIENT", "KILL", "ID", reader["id"])

            # Events published while it is away are missed; once back, all arrive.
            async def heard(topic: str, subscription: Subscription) -> None:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    events.publish(Event(topic, "after the drop"))
                    if await subscription.next(timeout=0.2) is not None:
                        return
                raise AssertionError(f"nothing on {topic} after the reconnect")

            for topic, subscription in zip(topics, subs, strict=True):
                await heard(topic, subscription)
            (back,) = readers(admin, events.client_name)
            assert back["id"] != reader["id"]
            assert channels(admin, "fanout-") >= set(topics)

    run_async(scenario())


def test_a_subscriber_that_does_not_read_holds_up_no_one_and_keeps_the_newest(events):
    topic = f"fanout-{uuid.uuid4().hex[:8]}"
    count = QUEUE_LIMIT + 200

    async def scenario() -> None:
        async with events.subscribe(topic) as slow, events.subscribe(topic) as fast:
            got: list[Event] = []
            publishing = asyncio.create_task(asyncio.to_thread(lambda: [
                events.publish(Event(topic, "n", {"n": n})) for n in range(count)]))  # fmt: skip
            async with asyncio.timeout(20):
                while len(got) < count:
                    event = await fast.next(timeout=5)
                    assert event is not None, f"the reader stalled after {len(got)}"
                    got.append(event)
            await publishing
            assert [e.data["n"] for e in got] == list(range(count))
            # The one that never read lost its oldest events, not the newest.
            kept = await drain(slow)
            assert [e.data["n"] for e in kept] == list(range(count - QUEUE_LIMIT, count))

    run_async(scenario())


def test_subscribers_on_several_event_loops_share_the_reader(admin, events):
    """The app serves from one loop, tests and scripts from several: each subscriber
    hears on its own loop, through the one connection."""
    topic = f"fanout-{uuid.uuid4().hex[:8]}"
    subscribed, heard = threading.Barrier(4), []

    async def listen() -> None:
        async with events.subscribe(topic) as subscription:
            await asyncio.to_thread(subscribed.wait, 10)
            heard.append(await subscription.next(timeout=5))

    threads = [threading.Thread(target=asyncio.run, args=(listen(),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    subscribed.wait(10)
    events.publish(Event(topic, "to every loop"))
    for thread in threads:
        thread.join(10)
    assert heard == [Event(topic, "to every loop")] * 3
    assert len(clients(admin, events.client_name)) <= 2  # the reader and one publisher
