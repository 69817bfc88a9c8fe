"""Subscriptions over graphql-transport-ws in this process: who may subscribe to what,
how a connection signs in, and that each event is what the subscriber may see."""

from __future__ import annotations

import json
import threading
import time

import pytest
from starlette.testclient import WebSocketDisconnect

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
        reader = threading.Thread(target=lambda: found.append(self.ws.receive_json()), daemon=True)
        reader.start()
        reader.join(timeout)
        assert found, f"no message within {timeout} s"
        return found[0]

    def close(self) -> None:
        self.ws.__exit__(None, None, None)


COMMENT_ADDED = "subscription($id: ID!) { commentAdded(imageId: $id) { body author { username } } }"  # noqa: E501
ADD = "mutation($id: ID!, $b: String!) { addComment(imageId: $id, body: $b) { id } }"


def test_comment_added_reaches_a_subscriber_in_time(api):
    owner, reader = people("owner", "reader")
    image_id = make_image(owner, "Watched")
    subscriber = Subscriber(api, token=api.token(reader)).acknowledged()
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
    subscriber.close()


def test_subscribers_only_hear_what_they_may_see(api):
    owner, other = people("owner", "other")
    owner_token = api.token(owner)
    private = make_image(owner, "Private", visibility=Visibility.PRIVATE)
    # Anonymous, then another person: the private image does not exist for them.
    for token in (None, api.token(other)):
        subscriber = Subscriber(api, token=token).acknowledged()
        subscriber.subscribe(COMMENT_ADDED, {"id": private})
        message = subscriber.receive()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        subscriber.close()

    # Watching a public image that then becomes private: nothing more arrives.
    public = make_image(owner, "Soon private")
    watcher = Subscriber(api, token=api.token(other)).acknowledged()
    watcher.subscribe(COMMENT_ADDED, {"id": public})
    time.sleep(0.2)
    api.data(ADD, {"id": public, "b": "seen"}, token=owner_token)
    assert watcher.receive()["payload"]["data"]["commentAdded"]["body"] == "seen"
    api.data(UPDATE, {"id": public, "input": {"visibility": "PRIVATE"}}, token=owner_token)
    api.data(ADD, {"id": public, "b": "not for you"}, token=owner_token)
    with pytest.raises(AssertionError, match="no message"):
        watcher.receive(timeout=1.0)
    watcher.close()


def test_a_connection_signs_in_with_connection_init_or_not_at_all(api):
    refused = Subscriber(api, token="isk_revoked-or-made-up")
    with pytest.raises(WebSocketDisconnect) as closed:
        refused.ws.receive_json()
    assert closed.value.code == 4403

    anonymous = Subscriber(api).acknowledged()
    anonymous.subscribe("subscription { imageStatusChanged { id } }")
    message = anonymous.receive()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    anonymous.close()


def test_uploads_announce_their_status_to_their_owner_and_the_gallery(api):
    owner, other = people("owner", "other")
    token = api.token(owner)
    mine = Subscriber(api, token=token).acknowledged()
    mine.subscribe("subscription { imageStatusChanged { id title status } }")
    theirs = Subscriber(api, token=api.token(other)).acknowledged()
    theirs.subscribe("subscription { imageStatusChanged { id } }")
    gallery = Subscriber(api).acknowledged()
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
    for subscriber in (mine, theirs, gallery):
        subscriber.close()


def test_mutations_cannot_ride_the_socket_past_the_rules(api):
    (owner,) = people("owner")
    image_id = make_image(owner, "Guarded")
    anonymous = Subscriber(api).acknowledged()
    anonymous.subscribe(ADD, {"id": image_id, "b": "sneaky"})
    message = anonymous.receive()
    assert json.dumps(message).count("UNAUTHENTICATED") == 1
    anonymous.close()
