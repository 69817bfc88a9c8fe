"""Subscriptions over graphql-transport-ws in this process: who may subscribe to what,
how a connection signs in, and that each event is what the subscriber may see."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
from anyio import ClosedResourceError
from starlette.testclient import WebSocketDisconnect

from imageshare.auth import access_tokens
from imageshare.comments import service as comments
from imageshare.graphql import context as context_module
from imageshare.graphql import schema as schema_module
from imageshare.graphql import subscriptions as subscriptions_module
from imageshare.images.kinds import Visibility
from tests import samples
from tests.harness.api import Api
from tests.integration.test_graphql_api import UPDATE, make_image, people, upload

pytestmark = pytest.mark.integration

PROTOCOL = "graphql-transport-ws"


class Subscriber:
    def __init__(self, api: Api, *, token: str | None = None):
        self.ws = api.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]).__enter__()
        init = {"type": "connection_init"}
        if token:
            init["payload"] = {"Authorization": f"Bearer {token}"}
        self.ws.send_json(init)

    def acknowledged(self) -> Subscriber:
        assert self.ws.receive_json() == {"type": "connection_ack"}
        return self

    def subscribe(self, query: str, variables: dict | None = None, op: str = "1") -> None:
        payload = {"query": query, "variables": variables or {}}
        self.ws.send_json({"type": "subscribe", "id": op, "payload": payload})

    def receive(self, timeout: float = 5.0) -> dict:
        """The next message, or AssertionError when none comes in time."""
        found: list = []

        def read() -> None:
            try:
                found.append(self.ws.receive_json())
            except ClosedResourceError:
                pass  # a reader still waiting when the test closed the socket

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        assert found, f"no message within {timeout} s"
        return found[0]

    def refusal(self) -> str:
        """The code of a subscription refused by its resolver: graphql-transport-ws
        carries it as a result with errors, then ends the operation (`error` messages
        are for documents refused before execution, as in the graphql-ws server)."""
        message = self.receive()
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        (error,) = message["payload"]["errors"]
        assert self.receive() == {"id": message["id"], "type": "complete"}
        return error["extensions"]["code"]

    def close(self) -> None:
        self.ws.__exit__(None, None, None)


@pytest.fixture
def connect(api):
    """Subscribers that are closed after the test, passed or failed: an open socket
    would keep the test client from shutting down."""
    opened: list[Subscriber] = []

    def open_one(*, token: str | None = None) -> Subscriber:
        opened.append(Subscriber(api, token=token))
        return opened[-1]

    yield open_one
    for subscriber in opened:
        subscriber.close()


COMMENT_ADDED = "subscription($id: ID!) { commentAdded(imageId: $id) { body author { username } } }"  # noqa: E501
ADD = "mutation($id: ID!, $b: String!) { addComment(imageId: $id, body: $b) { id } }"


def test_comment_added_reaches_a_subscriber_in_time(api, connect):
    owner, reader = people("owner", "reader")
    image_id = make_image(owner, "Watched")
    subscriber = connect(token=api.token(reader)).acknowledged()
    subscriber.subscribe(COMMENT_ADDED, {"id": image_id})
    time.sleep(0.2)  # the subscription is registered once the resolver has started
    started = time.monotonic()
    api.data(ADD, {"id": image_id, "b": "first!"}, token=api.token(owner))
    message = subscriber.receive(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert message["type"] == "next"
    assert message["payload"]["data"]["commentAdded"] == {
        "body": "first!", "author": {"username": "owner"}
    }  # fmt: skip


def test_subscribers_only_hear_what_they_may_see(api, connect):
    owner, other = people("owner", "other")
    owner_token = api.token(owner)
    private = make_image(owner, "Private", visibility=Visibility.PRIVATE)
    # Anonymous, then another person: the private image does not exist for them.
    for token in (None, api.token(other)):
        subscriber = connect(token=token).acknowledged()
        subscriber.subscribe(COMMENT_ADDED, {"id": private})
        assert subscriber.refusal() == "NOT_FOUND"

    # Watching a public image that then becomes private: nothing more arrives.
    public = make_image(owner, "Soon private")
    watcher = connect(token=api.token(other)).acknowledged()
    watcher.subscribe(COMMENT_ADDED, {"id": public})
    time.sleep(0.2)
    api.data(ADD, {"id": public, "b": "seen"}, token=owner_token)
    assert watcher.receive()["payload"]["data"]["commentAdded"]["body"] == "seen"
    api.data(UPDATE, {"id": public, "input": {"visibility": "PRIVATE"}}, token=owner_token)
    api.data(ADD, {"id": public, "b": "not for you"}, token=owner_token)
    with pytest.raises(AssertionError, match="no message"):
        watcher.receive(timeout=1.0)


def test_a_connection_signs_in_with_connection_init_or_not_at_all(api, connect):
    refused = connect(token="isk_revoked-or-made-up")
    with pytest.raises(WebSocketDisconnect) as closed:
        refused.ws.receive_json()
    assert closed.value.code == 4403

    anonymous = connect().acknowledged()
    anonymous.subscribe("subscription { imageStatusChanged { id } }")
    assert anonymous.refusal() == "UNAUTHENTICATED"


def test_uploads_announce_their_status_to_their_owner_and_the_gallery(api, connect):
    owner, other = people("owner", "other")
    token = api.token(owner)
    mine = connect(token=token).acknowledged()
    mine.subscribe("subscription { imageStatusChanged { id title status } }")
    theirs = connect(token=api.token(other)).acknowledged()
    theirs.subscribe("subscription { imageStatusChanged { id } }")
    gallery = connect().acknowledged()
    gallery.subscribe("subscription { imageAdded { title visibility } }")
    time.sleep(0.2)

    private = upload(api, token, samples.jpeg(320, 200), name="secret.jpg", visibility="PRIVATE")
    private_id = private.json()["data"]["uploadImage"]["id"]
    status = mine.receive(timeout=30)["payload"]["data"]["imageStatusChanged"]
    assert status == {"id": private_id, "title": "secret", "status": "READY"}

    upload(api, token, samples.jpeg(200, 320), name="public.jpg")
    assert mine.receive(timeout=30)["payload"]["data"]["imageStatusChanged"]["status"] == "READY"
    # The gallery hears of the public image only; nobody else hears of the owner's uploads.
    added = gallery.receive(timeout=30)["payload"]["data"]["imageAdded"]
    assert added == {"title": "public", "visibility": "PUBLIC"}
    for subscriber in (gallery, theirs):
        with pytest.raises(AssertionError, match="no message"):
            subscriber.receive(timeout=1.0)


def test_mutations_cannot_ride_the_socket_past_the_rules(api, connect):
    (owner,) = people("owner")
    image_id = make_image(owner, "Guarded")
    anonymous = connect().acknowledged()
    anonymous.subscribe(ADD, {"id": image_id, "b": "sneaky"})
    message = anonymous.receive()
    assert json.dumps(message).count("UNAUTHENTICATED") == 1


def test_a_revoked_token_stops_counting_on_an_open_connection(api, connect, monkeypatch):
    owner, reader = people("owner", "reader")
    image_id = make_image(owner, "Watched")
    with api.app.session() as db:
        token_row, token = access_tokens.create(db, viewer=reader, name="socket")
    subscriber = connect(token=token).acknowledged()
    subscriber.subscribe(COMMENT_ADDED, {"id": image_id}, op="watch")
    time.sleep(0.2)
    with api.app.session() as db:
        access_tokens.revoke(db, viewer=reader, token_id=token_row.id)
    # Proofs are asked again at once, not after the usual interval.
    monkeypatch.setattr(context_module, "FRESH_SECONDS", 0.0)
    monkeypatch.setattr(subscriptions_module, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(schema_module, "FRESH_SECONDS", 0.0)

    subscriber.subscribe(ADD, {"id": image_id, "b": "after revoking"}, op="write")
    answer = subscriber.receive()
    assert answer["id"] == "write", answer
    assert answer["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert subscriber.receive() == {"id": "write", "type": "complete"}

    # The subscription opened before ends at its next event, instead of carrying on.
    api.data(ADD, {"id": image_id, "b": "by the owner"}, token=api.token(owner))
    assert subscriber.refusal() == "UNAUTHENTICATED"


def test_a_failing_event_shows_no_internals_in_production(api, connect, monkeypatch):
    owner, reader = people("owner", "reader")
    image_id = make_image(owner, "Watched")
    subscriber = connect(token=api.token(reader)).acknowledged()
    subscriber.subscribe(COMMENT_ADDED, {"id": image_id})
    time.sleep(0.2)

    def broken(*_args, **_kwargs):
        raise RuntimeError('SELECT secret FROM "comment" at /srv/imageshare/comments.py')

    monkeypatch.setattr(api.app, "settings", replace(api.app.settings, env="production"))
    monkeypatch.setattr(comments, "get_comment", broken)
    api.data(ADD, {"id": image_id, "b": "hello"}, token=api.token(owner))
    message = json.dumps(subscriber.receive())
    assert "INTERNAL_SERVER_ERROR" in message
    assert "Something went wrong on our side" in message
    assert "SELECT" not in message and "/srv" not in message


def test_a_costly_subscription_is_refused_before_it_starts(api, connect):
    subscriber = connect().acknowledged()
    subscriber.subscribe(
        "subscription { imageAdded { comments(first: 100) { edges { node { author { "
        "images(first: 100) { edges { cursor } } } } } } } }"
    )
    message = subscriber.receive()
    assert message["type"] == "error", message
    (error,) = message["payload"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 10_100, "maxCost": 10_000}


def test_one_connection_holds_at_most_max_subscriptions_per_socket(api, connect):
    (owner,) = people("owner")
    image_id = make_image(owner, "Watched by many")
    limit = api.app.settings.max_subscriptions_per_socket
    assert limit == 10  # the default
    subscriber = connect().acknowledged()
    for op in range(limit):
        subscriber.subscribe(COMMENT_ADDED, {"id": image_id}, op=str(op))
    time.sleep(0.2)
    subscriber.subscribe(COMMENT_ADDED, {"id": image_id}, op="one too many")
    message = subscriber.receive()
    assert message["id"] == "one too many" and message["payload"]["data"] is None, message
    (error,) = message["payload"]["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert f"already has {limit} subscriptions open" in error["message"]
    assert subscriber.receive() == {"id": "one too many", "type": "complete"}

    # Completing one makes room for another; all of them still hear their events.
    subscriber.ws.send_json({"id": "3", "type": "complete"})
    time.sleep(0.2)
    subscriber.subscribe(COMMENT_ADDED, {"id": image_id}, op="again")
    time.sleep(0.2)
    api.data(ADD, {"id": image_id, "b": "to all"}, token=api.token(owner))
    heard = {subscriber.receive()["id"] for _ in range(limit)}
    assert heard == {str(op) for op in range(limit) if op != 3} | {"again"}


def test_one_address_holds_at_most_max_sockets_per_address(api, connect):
    limit = api.app.settings.max_sockets_per_address
    assert limit == 20  # the default
    # The test client's sockets all come from one address.
    sockets = [connect().acknowledged() for _ in range(limit)]

    refused = connect()
    with pytest.raises(WebSocketDisconnect) as closed:
        refused.ws.receive_json()
    assert closed.value.code == 4429
    assert "Too many open connections from your address" in closed.value.reason

    # An event stream counts too: refused with 429 and the same sentence.
    stream = api.client.post(
        "/graphql",
        json={"query": "subscription { imageAdded { id } }"},
        headers={"Accept": "text/event-stream"},
    )
    assert stream.status_code == 429
    (error,) = stream.json()["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    assert "at most 20 sockets and event streams" in error["message"]
    # Plain queries are not connections that stay: they are answered as ever.
    assert "images" in api.data("{ images { edges { node { id } } } }")

    sockets[0].close()
    time.sleep(0.2)
    connect().acknowledged()  # room again
