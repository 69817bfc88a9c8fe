"""GraphQL subscriptions across app instances: two real app processes on their own
ports share one Postgres and one Redis, and a subscriber connected to one of them hears
of comments added and deleted through the other (RedisEvents carries the events). What
a subscriber may not see stays hidden on the way: a private image refuses the
subscription with NOT_FOUND, and an image made private stops its comments at once.

The subscriber speaks graphql-transport-ws by hand, so the protocol itself is checked
as a client library would meet it."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect

from imageshare.auth import access_tokens
from imageshare.auth.viewer import Viewer
from imageshare.db import create_db_engine, session_scope
from imageshare.events import RedisEvents, image_topic
from tests.harness.app_server import AppServer, run_app
from tests.harness.components import missing_component, run_async

pytestmark = pytest.mark.integration

# Pub/sub channels are shared by all of a Redis server's databases: what keeps runs
# apart is the channel name, which holds the image's random id.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PROTOCOL = "graphql-transport-ws"
# How soon an event must reach the other instance's subscriber.
DELIVERY_LIMIT = 1.0
# How long a subscriber that must hear nothing is watched.
SILENCE = 1.5

COMMENT_ADDED = """
subscription($id: ID!) { commentAdded(imageId: $id) { id body author { username } } }"""
COMMENT_DELETED = """
subscription($id: ID!) { commentDeleted(imageId: $id) { id imageId } }"""
ADD_COMMENT = """
mutation($id: ID!, $body: String!) {
  addComment(imageId: $id, body: $body) { id body author { username } }
}"""
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
MAKE_PRIVATE = """
mutation($id: ID!) { updateImage(id: $id, input: {visibility: PRIVATE}) { id visibility } }"""


@dataclass(frozen=True)
class Instances:
    a: AppServer  # the subscribers' instance
    b: AppServer  # the writers' instance


@dataclass(frozen=True)
class Person:
    viewer: Viewer
    token: str

    @property
    def username(self) -> str:
        return self.viewer.username


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    """Redis must answer: without it this test proves nothing, so it fails (never skips)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        missing_component(f"Redis is not answering at {REDIS_URL} ({error}): start it, "
                          "or set TEST_REDIS_URL")  # fmt: skip
    yield client
    client.close()


@pytest.fixture(scope="module")
def instances(app_settings, redis_client) -> Iterator[Instances]:
    settings = {**app_settings, "REDIS_URL": REDIS_URL}
    with (
        run_app(settings, name="graphql-instance-a", backend_only=True) as a,
        run_app(settings, name="graphql-instance-b", backend_only=True) as b,
    ):
        # Two processes, each on a port of its own, both told to use Redis for events:
        # nothing but Redis can carry an event from one to the other.
        assert a.url != b.url and a.env["PORT"] != b.env["PORT"]
        assert a.env["REDIS_URL"] == b.env["REDIS_URL"] == REDIS_URL
        for server in (a, b):
            assert server.get("/healthz").json()["status"] == "ok"
        yield Instances(a=a, b=b)


@pytest.fixture(scope="module")
def people(app_settings, seeder) -> dict[str, Person]:
    """An image owner and another person, each with a personal access token."""
    suffix = secrets.token_hex(3)
    engine = create_db_engine(app_settings["DATABASE_URL"])
    found = {}
    try:
        for role in ("owner", "other"):
            viewer = seeder.person(f"xi-{role}-{suffix}")
            with session_scope(engine) as db:
                _, token = access_tokens.create(db, viewer=viewer, name="across instances")
            found[role] = Person(viewer=viewer, token=token)
    finally:
        engine.dispose()
    return found


def graphql(server: AppServer, who: Person, query: str, **variables: Any) -> dict[str, Any]:
    """The data of an operation that must succeed, sent to `server` as `who`."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {who.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


class Subscriber:
    """One graphql-transport-ws connection, as a client library would drive it."""

    def __init__(self, socket: ClientConnection):
        self.socket = socket
        self._ids = iter(range(1, 1_000_000))

    async def subscribe(self, query: str, **variables: Any) -> str:
        operation_id = str(next(self._ids))
        await self.send(
            {"id": operation_id, "type": "subscribe",
             "payload": {"query": query, "variables": variables}}
        )  # fmt: skip
        return operation_id

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message other than a keep-alive ping; None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.socket.recv(), remaining))
            except TimeoutError:
                return None
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] != "pong":
                return message
        return None


@asynccontextmanager
async def subscriber(server: AppServer, who: Person) -> AsyncIterator[Subscriber]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as socket:
        assert socket.subprotocol == PROTOCOL
        connection = Subscriber(socket)
        await connection.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {who.token}"}}
        )
        ack = await connection.receive(timeout=10)
        assert ack is not None and ack["type"] == "connection_ack", ack
        yield connection


async def listening(client: redis.Redis, image_id) -> None:
    """Wait until an app-side subscriber listens on the image's Redis channel: the
    subscription is in place (an event published before would be missed), and it goes
    through Redis, not through an instance's own memory."""
    channel = RedisEvents.PREFIX + image_topic(image_id)
    deadline = time.monotonic() + 10
    while True:
        ((_, listeners),) = await asyncio.to_thread(client.pubsub_numsub, channel)
        if listeners:
            return
        assert time.monotonic() < deadline, f"no subscriber on Redis channel {channel}"
        await asyncio.sleep(0.05)


async def mutate(server: AppServer, who: Person, query: str, **variables: Any) -> dict[str, Any]:
    """A mutation sent from a worker thread, so the subscriber's loop keeps reading.
    Returns its data and the moment its answer arrived."""
    data = await asyncio.to_thread(graphql, server, who, query, **variables)
    return {"data": data, "answered_at": time.monotonic()}


async def next_within(connection: Subscriber, operation_id: str, since: float) -> dict[str, Any]:
    """The operation's next result, which must arrive within DELIVERY_LIMIT of `since`."""
    message = await connection.receive(timeout=since + DELIVERY_LIMIT - time.monotonic())
    waited = time.monotonic() - since
    assert message is not None, f"nothing arrived within {DELIVERY_LIMIT}s"
    assert message["id"] == operation_id and message["type"] == "next", message
    assert "errors" not in message["payload"], message
    assert waited <= DELIVERY_LIMIT, f"the event took {waited:.2f}s"
    return message["payload"]["data"]


def test_a_comment_added_through_one_instance_reaches_a_subscriber_of_the_other(
    instances, people, seeder, redis_client
):
    owner, other = people["owner"], people["other"]
    image_id = str(seeder.image(owner.viewer, "across instances"))

    async def scenario():
        async with subscriber(instances.a, other) as connection:
            operation = await connection.subscribe(COMMENT_ADDED, id=image_id)
            await listening(redis_client, image_id)

            added = await mutate(instances.b, owner, ADD_COMMENT, id=image_id, body="Hello from B")
            comment = added["data"]["addComment"]
            data = await next_within(connection, operation, since=added["answered_at"])
            assert data == {
                "commentAdded": {"id": comment["id"], "body": "Hello from B",
                                 "author": {"username": owner.username}}
            }  # fmt: skip

            # And the next one too: the subscription goes on after its first event.
            added = await mutate(instances.b, other, ADD_COMMENT, id=image_id, body="and again")
            data = await next_within(connection, operation, since=added["answered_at"])
            assert data["commentAdded"]["body"] == "and again"
            assert data["commentAdded"]["author"] == {"username": other.username}

    run_async(scenario())


def test_a_comment_deleted_through_one_instance_reaches_a_subscriber_of_the_other(
    instances, people, seeder, redis_client
):
    owner, other = people["owner"], people["other"]
    image_id = str(seeder.image(owner.viewer, "deleted across instances"))
    comment_id = graphql(instances.b, other, ADD_COMMENT, id=image_id, body="soon gone")[
        "addComment"
    ]["id"]

    async def scenario():
        async with subscriber(instances.a, other) as connection:
            operation = await connection.subscribe(COMMENT_DELETED, id=image_id)
            await listening(redis_client, image_id)

            # The image's owner deletes another person's comment.
            deleted = await mutate(instances.b, owner, DELETE_COMMENT, id=comment_id)
            assert deleted["data"] == {"deleteComment": comment_id}
            data = await next_within(connection, operation, since=deleted["answered_at"])
            assert data == {"commentDeleted": {"id": comment_id, "imageId": image_id}}

    run_async(scenario())


def test_a_private_image_refuses_a_subscriber_who_may_not_see_it(
    instances, people, seeder, redis_client
):
    owner, other = people["owner"], people["other"]
    image_id = str(seeder.image(owner.viewer, "private", visibility="private"))

    async def scenario():
        async with subscriber(instances.a, other) as connection:
            operation = await connection.subscribe(COMMENT_ADDED, id=image_id)
            # The refusal comes from the resolver, so graphql-transport-ws carries it as
            # a result with errors and ends the operation (`error` messages are for
            # documents refused before execution, as in the graphql-ws reference server).
            message = await connection.receive(timeout=10)
            assert message is not None, "no answer to the subscription"
            assert message["id"] == operation and message["type"] == "next", message
            assert message["payload"]["data"] is None, message
            (error,) = message["payload"]["errors"]
            assert error["extensions"]["code"] == "NOT_FOUND", error
            # As if it did not exist: the message gives nothing away.
            assert "private" not in error["message"].lower(), error
            assert (await connection.receive(timeout=10)) == {"id": operation, "type": "complete"}

        # Its owner may follow it, through the same instance.
        async with subscriber(instances.a, owner) as connection:
            operation = await connection.subscribe(COMMENT_ADDED, id=image_id)
            await listening(redis_client, image_id)
            added = await mutate(instances.b, owner, ADD_COMMENT, id=image_id, body="mine")
            assert (await next_within(connection, operation, since=added["answered_at"])) == {
                "commentAdded": {"id": added["data"]["addComment"]["id"], "body": "mine",
                                 "author": {"username": owner.username}}
            }  # fmt: skip

    run_async(scenario())


def test_an_image_made_private_sends_its_comments_to_no_one_else(
    instances, people, seeder, redis_client
):
    owner, other = people["owner"], people["other"]
    image_id = str(seeder.image(owner.viewer, "soon private"))

    async def scenario():
        async with subscriber(instances.a, other) as connection:
            operation = await connection.subscribe(COMMENT_ADDED, id=image_id)
            await listening(redis_client, image_id)
            # It works while the image is public: the silence below means something.
            added = await mutate(instances.b, owner, ADD_COMMENT, id=image_id, body="public")
            data = await next_within(connection, operation, since=added["answered_at"])
            assert data["commentAdded"]["body"] == "public"

            made = await mutate(instances.b, owner, MAKE_PRIVATE, id=image_id)
            assert made["data"]["updateImage"]["visibility"] == "PRIVATE"
            await mutate(instances.b, owner, ADD_COMMENT, id=image_id, body="now private")

            message = await connection.receive(timeout=SILENCE)
            assert message is None, f"a subscriber who may no longer see it got {message}"
            # Still subscribed: the silence is the comment held back for this viewer,
            # not a subscription that ended.
            await listening(redis_client, image_id)

    run_async(scenario())
