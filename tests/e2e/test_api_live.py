"""The API hears the web page: a GraphQL subscriber (graphql-transport-ws, anonymous, on
a public image) receives `commentAdded` within a second of a comment posted through the
image page in Chromium."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import expect
from websockets.sync.client import connect

from imageshare.auth import access_tokens
from tests.e2e.test_browse_and_share import signed_in, unique
from tests.harness.subscriber import Subscriber

DELIVERY_LIMIT = 1.0
SUBSCRIPTION = (
    "subscription($id: ID!) { commentAdded(imageId: $id) { id body author { username } } }"  # noqa: E501
)


def test_a_comment_posted_on_the_page_reaches_a_subscriber_within_a_second(
    app_server, page, seeder
):
    owner_name, commenter_name = unique("lighthouse"), unique("passer")
    owner = seeder.person(owner_name)
    image_id = str(seeder.image(owner, "Lighthouse at noon"))
    with seeder.sessions() as db:
        _, token = access_tokens.create(db, viewer=owner, name="warm-up")

    url = app_server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        subscriber = Subscriber(socket, SUBSCRIPTION, {"id": image_id})
        # A first comment through the API shows the subscription is in place: one posted
        # before it was would be missed, and that is not what this test measures.
        warm_up = httpx.post(
            f"{app_server.url}/graphql",
            json={"query": 'mutation($id: ID!) { addComment(imageId: $id, body: "Hi") { id } }',
                  "variables": {"id": image_id}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )  # fmt: skip
        assert warm_up.json()["data"]["addComment"]["id"]
        assert subscriber.next("commentAdded")[1]["body"] == "Hi"

        signed_in(page, app_server, commenter_name, f"/i/{image_id}")
        page.get_by_label("Your comment").fill("Seen from the ferry.")
        page.get_by_role("button", name="Post comment").click()
        posted_at = time.monotonic()

        arrived, comment = subscriber.next("commentAdded")
        assert comment["body"] == "Seen from the ferry."
        assert comment["author"]["username"] == commenter_name
        waited = arrived - posted_at
        assert waited <= DELIVERY_LIMIT, f"the subscriber heard of it after {waited:.2f}s"
        expect(page.get_by_text("Comment posted.")).to_be_visible()
