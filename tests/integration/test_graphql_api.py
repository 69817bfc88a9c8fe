"""The GraphQL API over the same services as the pages, on SQLite and Postgres: every
operation signed in and anonymous, the visibility matrix against the services, uploads
through the real pipeline, CSRF, the limits, and what errors may say."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from imageshare.auth import sessions
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.comments import service as comments
from imageshare.errors import ServiceError
from imageshare.graphql.context import Context
from imageshare.graphql.view import GraphQLView
from imageshare.images import listing
from imageshare.images import service as images
from imageshare.images.kinds import Visibility
from imageshare.images.models import Image
from imageshare.images.service import ImagePatch
from imageshare.users.models import User
from imageshare.wiring import installed
from tests import samples
from tests.harness.api import SITE, Api
from tests.harness.rows import image, person

pytestmark = pytest.mark.integration

CARD = "id title visibility status tags owner { username } commentCount shareUrl"
IMAGE = f"query($id: ID!) {{ image(id: $id) {{ {CARD} }} }}"
GALLERY = f"query($n: Int!, $after: String) {{ images(first: $n, after: $after) {{ edges {{ cursor node {{ {CARD} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"  # noqa: E501
ADD_COMMENT = "mutation($id: ID!, $body: String!) { addComment(imageId: $id, body: $body) { id body author { username } viewerCanDelete } }"  # noqa: E501
UPDATE = "mutation($id: ID!, $input: UpdateImageInput!) { updateImage(id: $id, input: $input) { id title description tags visibility } }"  # noqa: E501
DELETE = "mutation($id: ID!) { deleteImage(id: $id) }"
UPLOAD = "mutation($file: Upload!, $input: UploadImageInput) { uploadImage(file: $file, input: $input) { id title status visibility tags } }"  # noqa: E501


def people(*names: str) -> list[Viewer]:
    with installed().session() as db:  # the test's wiring (tests/harness/api.py)
        return [person(db, name) for name in names]


def make_image(owner: Viewer, title: str, **kwargs) -> str:
    with installed().session() as db:
        return str(image(db, owner, title, **kwargs).id)


def upload(api: Api, token: str | None, data: bytes, name: str = "photo.jpg", **details):
    operations = {"query": UPLOAD, "variables": {"file": None, "input": details or None}}
    response = api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, data, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    return response


def wait_for_status(api: Api, token: str, image_id: str, wanted: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = api.data(IMAGE, {"id": image_id}, token=token)["image"]
        if found["status"] == wanted:
            return found
        time.sleep(0.1)
    raise AssertionError(f"image {image_id} never became {wanted}")


# -- reading ---------------------------------------------------------------------------


def test_anonymous_sees_what_anonymous_visitors_see(api):
    alice, _ = people("alice", "bob")
    public = make_image(alice, "Harbour", tags=("sea",))
    unlisted = make_image(alice, "Unlisted", visibility=Visibility.UNLISTED, tags=("secret",))
    private = make_image(alice, "Private", visibility=Visibility.PRIVATE, tags=("hidden",))

    data = api.data(
        "{ me { username } images { edges { node { title } } } tags { name imageCount } "
        'user(username: "alice") { username images { edges { node { title } } } imageCount } }'
    )
    assert data["me"] is None
    assert [e["node"]["title"] for e in data["images"]["edges"]] == ["Harbour"]
    # Tags only on unlisted or private images are nobody else's business.
    assert data["tags"] == [{"name": "sea", "imageCount": 1}]
    assert [e["node"]["title"] for e in data["user"]["images"]["edges"]] == ["Harbour"]
    assert data["user"]["imageCount"] == 1

    assert api.data(IMAGE, {"id": unlisted})["image"]["title"] == "Unlisted"
    assert api.data(IMAGE, {"id": private})["image"] is None
    assert api.data(IMAGE, {"id": "not-an-id"})["image"] is None
    assert api.data('{ user(username: "nobody") { username } }')["user"] is None
    shown = api.data(IMAGE, {"id": public})["image"]
    assert shown["owner"] == {"username": "alice"} and shown["tags"] == ["sea"]
    code = shown["shareUrl"].rsplit("/", 1)[1]
    query = "query($c: String!) { imageByShareCode(code: $c) { id } }"
    assert api.data(query, {"c": code})["imageByShareCode"] == {"id": public}
    with api.app.session() as db:
        private_code = db.get(Image, uuid.UUID(private)).share_code
    assert api.data(query, {"c": private_code})["imageByShareCode"] is None
    comments_of_private = "query($id: ID!) { comments(imageId: $id) { edges { node { id } } } }"
    assert api.error_code(comments_of_private, {"id": private}) == "NOT_FOUND"


def test_signed_in_reads_with_an_access_token(api):
    alice, bob = people("alice", "bob")
    token = api.token(alice)
    private = make_image(alice, "Mine", visibility=Visibility.PRIVATE)
    make_image(bob, "Bob's", visibility=Visibility.PRIVATE)
    data = api.data(
        "{ me { username displayName images { edges { node { title viewerIsOwner } } } } }",
        token=token,
    )
    assert data["me"]["username"] == "alice"
    assert data["me"]["images"]["edges"] == [{"node": {"title": "Mine", "viewerIsOwner": True}}]
    mine = api.data(
        "query($id: ID!) { image(id: $id) { url(rendition: THUMB) originalUrl failureReason } }",
        {"id": private},
        token=token,
    )["image"]
    # Private media: signed, expiring URLs, absolute for an API client.
    assert mine["url"].startswith(f"{SITE}/media/renditions/{private}/thumb.webp?expires=")
    assert mine["originalUrl"].startswith(f"{SITE}/media/originals/{private}?expires=")
    bob_sees = api.data(
        "query($id: ID!) { image(id: $id) { id } }", {"id": private}, token=api.token(bob)
    )
    assert bob_sees["image"] is None


def test_gallery_pages_filters_and_tags(api):
    alice, bob = people("alice", "bob")
    for n in range(5):
        make_image(alice, f"Boat {n}", tags=("sea", f"n{n}"), location="Porto")
    make_image(bob, "Mountain", tags=("alps",), description="snow and rock")
    first = api.data(GALLERY, {"n": 4})["images"]
    assert [e["node"]["title"] for e in first["edges"]] == [
        "Mountain", "Boat 4", "Boat 3", "Boat 2"
    ]  # fmt: skip
    assert first["pageInfo"]["hasNextPage"] is True
    rest = api.data(GALLERY, {"n": 4, "after": first["pageInfo"]["endCursor"]})["images"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["Boat 1", "Boat 0"]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["edges"][-1]["cursor"]}

    def titles(filter_: dict) -> list[str]:
        query = "query($f: ImageFilter) { images(filter: $f) { edges { node { title } } } }"
        return [e["node"]["title"] for e in api.data(query, {"f": filter_})["images"]["edges"]]

    assert titles({"uploader": "bob"}) == ["Mountain"]
    assert titles({"tag": "#SEA", "location": "porto"})[:1] == ["Boat 4"]
    assert titles({"search": "snow"}) == ["Mountain"]
    assert titles({"tag": "nothing-has-this"}) == []
    tags = api.data('{ tags(prefix: "n", first: 2) { name imageCount } }')["tags"]
    assert tags == [{"name": "n0", "imageCount": 1}, {"name": "n1", "imageCount": 1}]
    for wildcard in ("%", "_", "n%", "\\\\"):  # LIKE's wildcards match only themselves
        assert api.data("query($p: String!) { tags(prefix: $p) { name } }", {"p": wildcard}) == {
            "tags": []
        }
    bad_cursor = api.error_code(GALLERY, {"n": 4, "after": "garbage"})
    assert bad_cursor == "INVALID_INPUT"


# -- the visibility matrix ---------------------------------------------------------------

# What DESIGN.md says, for the viewer who is not the owner (the owner may do everything).
EXPECTED_FOR_OTHERS = {
    Visibility.PUBLIC: {"read": True, "list": True, "comment": True},
    Visibility.UNLISTED: {"read": True, "list": False, "comment": True},
    Visibility.PRIVATE: {"read": False, "list": False, "comment": False},
}


def service_answers(viewer: Viewer, image_id: uuid.UUID) -> dict[str, bool]:
    """The same questions asked of the services, each in a transaction rolled back."""
    attempts = {
        "read": lambda db: images.get_for_viewer(db, viewer=viewer, image_id=image_id),
        "list": lambda db: (
            image_id
            in {item.image.id for item in listing.gallery(db, viewer=viewer, limit=100).items}
        ),
        "comment": lambda db: comments.add_comment(db, viewer=viewer, image_id=image_id, body="x"),
        "update": lambda db: images.update_image(
            db, viewer=viewer, image_id=image_id, patch=ImagePatch(title="x")
        ),
        "delete": lambda db: images.begin_deletion(db, viewer=viewer, image_ids=[image_id]),
    }
    answers = {}
    for action, attempt in attempts.items():
        with Session(installed().engine) as db:
            try:
                answers[action] = attempt(db) not in (None, False)
            except ServiceError:
                answers[action] = False
            db.rollback()
    return answers


def api_answers(api: Api, token: str | None, image_id: str) -> dict[str, bool]:
    def succeeds(query: str, variables: dict) -> bool:
        body = api.post(query, variables, token=token)
        return "errors" not in body

    titles = api.data(GALLERY, {"n": 100}, token=token)["images"]["edges"]
    return {
        "read": api.data(IMAGE, {"id": image_id}, token=token)["image"] is not None,
        "list": image_id in {e["node"]["id"] for e in titles},
        "comment": succeeds(ADD_COMMENT, {"id": image_id, "body": "via the API"}),
        "update": succeeds(UPDATE, {"id": image_id, "input": {"description": "changed"}}),
        "delete": succeeds(DELETE, {"id": image_id}),
    }


def test_visibility_matrix_is_the_same_through_the_api_and_the_services(api):
    owner, other = people("owner", "other")
    tokens = {"anonymous": None, "owner": api.token(owner), "other": api.token(other)}
    viewers = {"anonymous": ANONYMOUS, "owner": owner, "other": other}
    for visibility in Visibility:
        for who in viewers:
            image_id = make_image(owner, f"{visibility} for {who}", visibility=visibility)
            expected = {"update": who == "owner", "delete": who == "owner"}
            if who == "owner":
                expected |= {"read": True, "comment": True,
                             "list": visibility == Visibility.PUBLIC}  # fmt: skip
            else:
                expected |= EXPECTED_FOR_OTHERS[visibility]
                expected["comment"] &= who != "anonymous"
            services = service_answers(viewers[who], uuid.UUID(image_id))
            through_api = api_answers(api, tokens[who], image_id)
            assert services == expected, (visibility, who)
            assert through_api == expected, (visibility, who)


def test_refusals_carry_the_documented_codes(api):
    owner, other = people("owner", "other")
    public = make_image(owner, "Public")
    private = make_image(owner, "Private", visibility=Visibility.PRIVATE)
    other_token = api.token(other)
    assert api.error_code(UPDATE, {"id": public, "input": {"title": "x"}}) == "UNAUTHENTICATED"
    assert api.error_code(UPDATE, {"id": public, "input": {"title": "x"}},
                          token=other_token) == "FORBIDDEN"  # fmt: skip
    assert api.error_code(UPDATE, {"id": private, "input": {"title": "x"}},
                          token=other_token) == "NOT_FOUND"  # fmt: skip
    owner_token = api.token(owner)
    assert api.error_code(UPDATE, {"id": public, "input": {"title": "  "}},
                          token=owner_token) == "INVALID_INPUT"  # fmt: skip
    assert api.error_code(UPDATE, {"id": public, "input": {"visibility": "SECRET"}},
                          token=owner_token) == "BAD_REQUEST"  # fmt: skip
    body = api.post(UPDATE, {"id": public, "input": {"title": "  "}}, token=owner_token)
    assert body["errors"][0]["message"] == "A title is required."
    # Nothing was changed by any of the refusals.
    assert api.data(IMAGE, {"id": public})["image"]["title"] == "Public"


def test_odd_arguments_are_answers_not_server_errors(api):
    """What the schemathesis run once found: text and numbers any client can send that
    the database cannot take (NUL in text, ids past 32 bits, digits that are not 0-9)."""
    (owner,) = people("owner")
    token = api.token(owner)
    image_id = make_image(owner, "Odd")
    assert api.data('{ user(username: "al\\u0000ice") { id } }')["user"] is None
    found = api.data(
        '{ images(filter: {tag: "\\u0000", search: "a\\u0000b"}) { edges { cursor } } }'
    )
    assert found["images"]["edges"] == []
    for comment_id in ("2147483648", "99999999999999999999", "\u00b2", "-1", "1e3"):
        delete = "mutation($id: ID!) { deleteComment(id: $id) }"
        assert api.error_code(delete, {"id": comment_id}, token=token) == "NOT_FOUND"
    huge_cursor = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|2147483648").decode()
    comments = "query($id: ID!, $after: String) { comments(imageId: $id, after: $after) { edges { cursor } } }"  # noqa: E501
    assert api.error_code(comments, {"id": image_id, "after": huge_cursor}) == "INVALID_INPUT"
    added = api.data(ADD_COMMENT, {"id": image_id, "body": "nul\u0000 stays out"}, token=token)
    assert added["addComment"]["body"] == "nul stays out"

    # A lone surrogate: valid in JSON (as an escape), storable nowhere.
    def ascii_json(query: str, variables: dict) -> dict:
        body = json.dumps({"query": query, "variables": variables})  # stays \\ud800 in JSON
        response = api.client.post("/graphql", content=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})  # fmt: skip
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        return response.json()["data"]

    added = ascii_json(ADD_COMMENT, {"id": image_id, "body": "half \ud800 a pair"})
    assert added["addComment"]["body"] == "half  a pair"
    user = ascii_json("query($n: String!) { user(username: $n) { id } }", {"n": "\udfff"})
    assert user == {"user": None}
    tags = ascii_json("query($p: String!) { tags(prefix: $p) { name } }", {"p": "\ud800"})
    assert tags == {"tags": []}


# -- changing things ----------------------------------------------------------------------


def test_update_changes_only_what_is_given(api):
    (owner,) = people("owner")
    token = api.token(owner)
    image_id = make_image(owner, "Before", tags=("a", "b"), description="kept")
    updated = api.data(UPDATE, {"id": image_id, "input": {"title": "After"}}, token=token)
    assert updated["updateImage"] == {"id": image_id, "title": "After", "description": "kept",
                                      "tags": ["a", "b"], "visibility": "PUBLIC"}  # fmt: skip
    updated = api.data(
        UPDATE, {"id": image_id, "input": {"tags": ["New", "#x"], "visibility": "PRIVATE"}},
        token=token,
    )["updateImage"]  # fmt: skip
    assert updated["tags"] == ["new", "x"] and updated["visibility"] == "PRIVATE"
    assert api.data(IMAGE, {"id": image_id})["image"] is None  # anonymous: gone


def test_comments_add_page_and_delete(api):
    owner, author, stranger = people("owner", "author", "stranger")
    image_id = make_image(owner, "Talked about")
    tokens = {name: api.token(v) for name, v in
              (("owner", owner), ("author", author), ("stranger", stranger))}  # fmt: skip
    ids = [api.data(ADD_COMMENT, {"id": image_id, "body": f"comment {n}"},
                    token=tokens["author"])["addComment"]["id"] for n in range(3)]  # fmt: skip
    page = "query($id: ID!, $after: String) { comments(imageId: $id, first: 2, after: $after) { edges { node { body author { username } } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
    first = api.data(page, {"id": image_id})["comments"]
    assert [e["node"]["body"] for e in first["edges"]] == ["comment 0", "comment 1"]
    after = first["pageInfo"]["endCursor"]
    rest = api.data(page, {"id": image_id, "after": after})["comments"]
    assert [e["node"]["body"] for e in rest["edges"]] == ["comment 2"]
    assert rest["pageInfo"]["hasNextPage"] is False
    count = api.data("query($id: ID!) { image(id: $id) { commentCount } }", {"id": image_id})
    assert count["image"]["commentCount"] == 3

    delete = "mutation($id: ID!) { deleteComment(id: $id) }"
    assert api.error_code(delete, {"id": ids[0]}, token=tokens["stranger"]) == "FORBIDDEN"
    assert api.error_code(delete, {"id": ids[0]}) == "UNAUTHENTICATED"
    assert api.data(delete, {"id": ids[0]}, token=tokens["author"]) == {"deleteComment": ids[0]}
    assert api.data(delete, {"id": ids[1]}, token=tokens["owner"]) == {"deleteComment": ids[1]}
    assert api.error_code(delete, {"id": ids[1]}, token=tokens["owner"]) == "NOT_FOUND"
    assert api.error_code(ADD_COMMENT, {"id": image_id, "body": " "},
                          token=tokens["author"]) == "INVALID_INPUT"  # fmt: skip
    left = api.data(page, {"id": image_id})["comments"]["edges"]
    assert [e["node"]["body"] for e in left] == ["comment 2"]


def test_regenerating_the_share_code_retires_the_old_link(api):
    (owner,) = people("owner")
    token = api.token(owner)
    image_id = make_image(owner, "Shared", visibility=Visibility.UNLISTED)
    old = api.data(IMAGE, {"id": image_id})["image"]["shareUrl"]
    regenerate = "mutation($id: ID!) { regenerateShareCode(imageId: $id) { shareUrl } }"
    assert api.error_code(regenerate, {"id": image_id}) == "UNAUTHENTICATED"
    new = api.data(regenerate, {"id": image_id}, token=token)["regenerateShareCode"]["shareUrl"]
    assert new != old and new.startswith(f"{SITE}/s/")
    by_code = "query($c: String!) { imageByShareCode(code: $c) { id } }"
    assert api.data(by_code, {"c": old.rsplit("/", 1)[1]})["imageByShareCode"] is None
    assert api.data(by_code, {"c": new.rsplit("/", 1)[1]})["imageByShareCode"] == {"id": image_id}


def test_upload_process_and_delete_through_the_api(api):
    owner, other = people("owner", "other")
    token = api.token(owner)
    response = upload(api, token, samples.jpeg(1600, 1200), name="harbour.jpg",
                      tags=["Sea"], visibility="UNLISTED")  # fmt: skip
    assert response.status_code == 200, response.text
    created = response.json()["data"]["uploadImage"]
    assert created["title"] == "harbour" and created["status"] == "PROCESSING"
    assert created["tags"] == ["sea"] and created["visibility"] == "UNLISTED"
    ready = wait_for_status(api, token, created["id"], "READY")
    assert ready["id"] == created["id"]
    stored = api.media_files()
    assert f"originals/{created['id']}" in stored
    assert f"renditions/{created['id']}/large.webp" in stored

    again = upload(api, token, samples.jpeg(1600, 1200)).json()
    assert again["errors"][0]["extensions"] == {"code": "DUPLICATE_UPLOAD",
                                                "imageId": created["id"]}  # fmt: skip

    assert api.error_code(DELETE, {"id": created["id"]}, token=api.token(other)) == "FORBIDDEN"
    assert api.data(DELETE, {"id": created["id"]}, token=token) == {"deleteImage": created["id"]}
    assert api.media_files() == []
    assert api.data(IMAGE, {"id": created["id"]}, token=token)["image"] is None


def test_refused_uploads_leave_nothing_behind(api):
    (owner,) = people("owner")
    token = api.token(owner)
    not_an_image = upload(api, token, b"%PDF-1.7 not a picture", name="cv.jpg").json()
    assert not_an_image["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert not_an_image["errors"][0]["message"].startswith("cv.jpg was not uploaded:")
    too_big = upload(api, token, samples.jpeg(64, 64) + b"\0" * 2_100_000).json()
    assert too_big["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "larger than" in too_big["errors"][0]["message"]
    far_too_big = upload(api, token, b"\0" * 3_000_000)
    assert far_too_big.status_code == 413
    anonymous = upload(api, None, samples.jpeg(64, 64)).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad_title = upload(api, token, samples.jpeg(64, 64), title="x" * 201).json()
    assert bad_title["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert api.media_files() == []
    with api.app.session() as db:
        assert db.exec(select(sa.func.count()).select_from(Image)).one() == 0


def test_deleting_many_is_all_or_nothing(api):
    owner, other = people("owner", "other")
    token = api.token(owner)
    mine = [make_image(owner, f"Mine {n}") for n in range(3)]
    theirs = make_image(other, "Theirs")
    delete_many = "mutation($ids: [ID!]!) { deleteImages(ids: $ids) }"
    assert api.error_code(delete_many, {"ids": [*mine, theirs]}, token=token) == "FORBIDDEN"
    assert all(api.data(IMAGE, {"id": i})["image"] for i in mine)
    assert api.error_code(delete_many, {"ids": []}, token=token) == "INVALID_INPUT"
    too_many = [str(uuid.uuid4()) for _ in range(101)]
    body = api.post(delete_many, {"ids": too_many}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "between 1 and 100" in body["errors"][0]["message"]
    assert api.data(delete_many, {"ids": mine}, token=token) == {"deleteImages": mine}
    assert not any(api.data(IMAGE, {"id": i})["image"] for i in mine)


def test_get_reads_only_and_a_browser_gets_graphiql(api):
    (owner,) = people("owner")
    token = api.token(owner)
    image_id = make_image(owner, "Kept")
    read = api.client.get("/graphql", params={"query": "{ me { username } }"},
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert read.status_code == 200 and read.json()["data"]["me"] == {"username": "owner"}
    mutation = f'mutation {{ deleteImage(id: "{image_id}") }}'
    refused = api.client.get("/graphql", params={"query": mutation},
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert refused.status_code == 400 and "GET" in refused.text
    assert api.data(IMAGE, {"id": image_id})["image"]["title"] == "Kept"

    page = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


# -- the browser's cookie -------------------------------------------------------------------


def test_the_session_cookie_needs_proof_of_origin_on_post(api):
    (alice,) = people("alice")
    with api.app.session() as db:
        cookie = sessions.start(db, user=db.get(User, alice.user_id))
    api.client.cookies.set(sessions.COOKIE_NAME, cookie)
    try:
        me = "{ me { username } }"
        same_site = api.post(me, headers={"Origin": SITE})
        assert same_site["data"]["me"] == {"username": "alice"}
        for origin in (None, "https://evil.example"):
            headers = {"Origin": origin} if origin else {}
            response = api.client.post("/graphql", json={"query": me}, headers=headers)
            assert response.status_code == 403, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # A GET can only read, and a page elsewhere cannot read the answer.
        answer = api.client.get("/graphql", params={"query": me}).json()
        assert answer["data"]["me"] == {"username": "alice"}
        # Multipart uploads obey the same rule, before the body is read.
        refused = upload(api, None, samples.jpeg(64, 64))
        assert refused.status_code == 403
    finally:
        api.client.cookies.clear()
    assert api.media_files() == []


def test_bad_bearer_tokens_are_refused_with_401(api):
    for header in ("Bearer isk_not-a-real-token", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"):
        response = api.client.post(
            "/graphql", json={"query": "{ me { username } }"}, headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")


# -- limits ----------------------------------------------------------------------------------


def test_abusive_documents_are_refused_before_any_work(api):
    # "Before any work": not one SQL statement is run for any of these requests.
    ran: list[str] = []
    listen = lambda *args: ran.append(args[2])  # noqa: E731
    sa.event.listen(api.app.engine, "before_cursor_execute", listen)
    try:
        refuse_abusive_documents(api)
    finally:
        sa.event.remove(api.app.engine, "before_cursor_execute", listen)
    assert ran == []


def refuse_abusive_documents(api):
    deep = "{ me " + "{ images { edges { node { owner " * 5 + "{ username }" + " } } } }" * 5 + " }"
    body = api.post(deep)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]

    aliases = "{ " + " ".join(f"a{n}: me {{ username }}" for n in range(500)) + " }"
    body = api.post(aliases)
    assert "data" not in body or body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_REQUEST"}
    assert any("aliases" in e["message"] for e in body["errors"])

    roots = "{ " + " ".join(f"tags{n}: tags {{ name }}" for n in range(11)) + " }"
    assert "at most 10 root fields" in api.post(roots)["errors"][0]["message"]
    # Fragments are counted for what they hold, however they are nested.
    fields = " ".join(f"t{n}: tags {{ name }}" for n in range(11))
    hidden = (
        "{ ...A } fragment A on Query { ... on Query { ...B } } fragment B on Query { "
        + fields
        + " }"
    )  # noqa: E501
    assert "this one asks for 11" in api.post(hidden)["errors"][0]["message"]

    big_page = api.post("{ images(first: 101) { edges { cursor } } }")
    assert big_page["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert big_page["errors"][0]["message"] == (
        "Ask for between 1 and 100 items a page; 101 is not."
    )
    # A page so large it is over the cost ceiling is refused for that, before the service.
    huge_page = api.post("{ images(first: 1000000) { edges { cursor } } }")
    assert huge_page["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert huge_page["errors"][0]["extensions"]["cost"] == 1_000_000

    ten_mb = json.dumps({"query": "{ me { username } }", "variables": {"x": "a" * 10_000_000}})
    response = api.client.post(
        "/graphql", content=ten_mb, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than the 256 KB allowed" in response.json()["errors"][0]["message"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 100_000

    response = api.client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


COSTLY = "{ images(first: 100) { edges { node { id title url owner { username images(first: 100) { edges { node { id title url } } } } } } } }"  # noqa: E501
CARDS = "{ images(first: 24) { edges { node { id title owner { username } tags url } } } }"


def test_costly_documents_are_refused_in_milliseconds_before_any_work(api, monkeypatch):
    owners = people("painter", "sculptor", "potter")
    for owner in owners:
        for n in range(3):
            make_image(owner, f"{owner.username} {n}")
    contexts: list[Context] = []
    get_context = GraphQLView.get_context

    async def kept(self, request, response):
        contexts.append(await get_context(self, request, response))
        return contexts[-1]

    monkeypatch.setattr(GraphQLView, "get_context", kept)
    ran: list[str] = []
    listen = lambda *args: ran.append(args[2])  # noqa: E731
    sa.event.listen(api.app.engine, "before_cursor_execute", listen)
    try:
        started = time.perf_counter()
        body = api.post(COSTLY)
        took = time.perf_counter() - started
        # Fragments and variables are counted as they would run.
        hidden = api.post(
            "query($n: Int!) { images(first: $n) { ...Cards } } fragment Cards on "
            "ImageConnection { edges { node { owner { images(first: $n) { edges { cursor } "
            "} } } } }",
            {"n": 100},
        )
    finally:
        sa.event.remove(api.app.engine, "before_cursor_execute", listen)
    assert ran == []  # no resolver reached the database
    assert took < 0.5, took
    assert body.get("data") is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 10_100, "maxCost": 10_000}
    assert error["message"].startswith("This operation could return 10,100 nodes; at most 10,000")
    assert hidden["errors"][0]["extensions"]["cost"] == 10_100
    assert [c.query_cost for c in contexts] == [None, None]

    # A gallery page passes, and says what it cost; the rate limit will read the Context.
    answer = api.post(CARDS)
    assert "errors" not in answer, answer
    assert len(answer["data"]["images"]["edges"]) == 9
    assert answer["extensions"] == {"cost": {"requested": 24, "limit": 10_000}}
    assert contexts[-1].query_cost == 24


def test_the_cost_ceiling_is_a_setting(api, monkeypatch):
    monkeypatch.setattr(api.app, "settings", replace(api.app.settings, max_query_cost=50))
    assert api.post(CARDS)["extensions"]["cost"] == {"requested": 24, "limit": 50}
    body = api.post(
        "{ a: images { edges { cursor } } b: images { edges { cursor } } c: images { edges { cursor } } }"
    )  # noqa: E501
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 72,
        "maxCost": 50,
    }


def test_errors_never_show_internals_in_production(api, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError('SELECT * FROM "user" failed at /srv/imageshare/listing.py')

    monkeypatch.setattr(listing, "gallery", broken)
    development = api.post("{ images { edges { cursor } } }")
    error = development["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "SELECT" in error["message"]  # development: the message helps
    assert "Traceback" not in json.dumps(development)

    monkeypatch.setattr(api.app, "settings", replace(api.app.settings, env="production"))
    body = json.dumps(api.post("{ images { edges { cursor } } }"))
    assert "SELECT" not in body and "/srv" not in body and "Traceback" not in body
    assert "Something went wrong on our side" in body


# -- cost --------------------------------------------------------------------------------------


def test_a_page_of_100_images_costs_a_constant_number_of_statements(api):
    owners = people(*(f"owner{n}" for n in range(10)))
    with api.app.session() as db:
        for n in range(120):
            row = image(db, owners[n % 10], f"Image {n}", tags=("sea", f"t{n}"))
            for c in range(n % 3):
                comments.add_comment(db, viewer=owners[c], image_id=row.id, body=f"c{c}")
    query = "query($n: Int!) { images(first: $n) { edges { node { title owner { username displayName } tags commentCount url(rendition: THUMB) } } } }"  # noqa: E501
    engine = api.app.engine

    def statements(first: int) -> int:
        seen: list[str] = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listen)
        try:
            edges = api.data(query, {"n": first})["images"]["edges"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", listen)
        assert len(edges) == first
        assert all(e["node"]["owner"]["username"].startswith("owner") for e in edges)
        assert all("sea" in e["node"]["tags"] for e in edges)
        return len(seen)

    hundred, ten = statements(100), statements(10)
    # The page with its owners and renditions, then one each for tags and comment counts.
    assert hundred == ten
    assert hundred <= 5, hundred
