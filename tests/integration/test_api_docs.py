"""docs/api.md, run: every curl and Python example on the page, as a reader would paste
it, against the app under test. Twice: on the development server signed in with a
personal access token, and on the production server with an Auth0 access token from
the test provider. Each example gets fresh images and comments of its own, and what it
did is checked through the API afterwards, so the page cannot drift from the code.

Which blocks are examples: the `sh` and `python` blocks under the page's Queries,
Mutations and Subscriptions (one of each per operation, named by its `###` heading),
and the token request of "An Auth0 access token for a machine". The Python block under
"Running the examples" is the helpers every Python example starts with.
"""

from __future__ import annotations

import io
import json
import queue
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from imageshare.auth import access_tokens
from imageshare.auth.viewer import Viewer
from imageshare.db import create_db_engine, session_scope
from imageshare.graphql.schema import schema
from imageshare.users.models import User
from tests import samples
from tests.harness.app_server import AppServer
from tests.harness.components import REPO_ROOT, VENV_BIN
from tests.harness.oidc import AUDIENCE, CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.integration

DOC = REPO_ROOT / "docs" / "api.md"
RUNNABLE_SECTIONS = ("Queries", "Mutations", "Subscriptions")
HELPERS_SECTION = "Running the examples"
MACHINE_TOKEN = "An Auth0 access token for a machine"
# A query or mutation example must finish in this time; a subscription must print an
# event this soon after it started (the test triggers one every TICK seconds meanwhile).
RUN_TIMEOUT = 60
EVENT_TIMEOUT = 30
TICK = 1.0


@dataclass(frozen=True)
class Block:
    section: str  # the `##` heading it is under
    heading: str  # the `###` heading it is under
    language: str
    code: str


def read_blocks(text: str) -> list[Block]:
    blocks, section, heading = [], "", ""
    pattern = re.compile(r"^(#{2,3}) ([^\n]+)$|^```(\w*)\n(.*?)^```$", re.M | re.S)
    for match in pattern.finditer(text):
        if match.group(1) == "##":
            section, heading = match.group(2).strip(), ""
        elif match.group(1) == "###":
            heading = match.group(2).strip()
        else:
            blocks.append(Block(section, heading, match.group(3), match.group(4)))
    return blocks


BLOCKS = read_blocks(DOC.read_text())
EXAMPLES = [b for b in BLOCKS if b.section in RUNNABLE_SECTIONS and b.language in ("sh", "python")]
(HELPERS,) = [b.code for b in BLOCKS if b.section == HELPERS_SECTION and b.language == "python"]
(MACHINE_TOKEN_REQUEST,) = [b.code for b in BLOCKS if b.heading == MACHINE_TOKEN]


def schema_operations() -> dict[str, list[str]]:
    sections = {"Queries": "Query", "Mutations": "Mutation", "Subscriptions": "Subscription"}
    graphql_schema = schema._schema
    return {
        section: sorted(graphql_schema.get_type(type_name).fields)
        for section, type_name in sections.items()
    }


def test_every_operation_has_a_curl_and_a_python_example():
    for section, operations in schema_operations().items():
        documented = sorted(
            (b.heading, b.language) for b in EXAMPLES if b.section == section
        )  # fmt: skip
        wanted = sorted((name, language) for name in operations for language in ("python", "sh"))
        assert documented == wanted, f"{section}: the examples and the schema differ"


# -- the sites the examples run against --------------------------------------------------


@dataclass
class Site:
    server: AppServer
    token: str
    viewer: Viewer
    seeder: Any
    extra_env: dict[str, str] = field(default_factory=dict)

    def post(self, query: str, variables: dict | None = None, *, token: str | None = None):
        response = httpx.post(
            f"{self.server.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        body = self.post(query, variables, **kwargs)
        assert not body.get("errors"), body
        return body["data"]

    def upload(self, path: Path, **details) -> str:
        operations = {
            "query": "mutation($f: Upload!, $i: UploadImageInput) { uploadImage(file: $f, "
            "input: $i) { id } }",
            "variables": {"f": None, "i": details or None},
        }
        response = httpx.post(
            f"{self.server.url}/graphql",
            data={"operations": json.dumps(operations), "map": '{"0": ["variables.f"]}'},
            files={"0": (path.name, path.read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]["uploadImage"]["id"]


def _viewer_named(database_url: str, username: str) -> Viewer:
    engine = create_db_engine(database_url)
    try:
        with session_scope(engine) as db:
            return Viewer.of(db.exec(select(User).where(User.username == username)).one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def development_site(app_server, app_settings, seeder) -> Site:
    """`make run`'s kind of server: development sign-in, a token from the settings page."""
    viewer = seeder.person(f"docs-{secrets.token_hex(3)}")
    engine = create_db_engine(app_settings["DATABASE_URL"])
    try:
        with session_scope(engine) as db:
            _, token = access_tokens.create(db, viewer=viewer, name="api docs")
    finally:
        engine.dispose()
    return Site(server=app_server, token=token, viewer=viewer, seeder=seeder)


@pytest.fixture(scope="module")
def auth0_site(auth0_app_server, app_settings, oidc_provider, seeder) -> Site:
    """Production, signed in at the Auth0-like provider: its access token is the bearer."""
    name = f"docs-a0-{secrets.token_hex(3)}"
    login = {"sub": f"auth0|{name}", "nickname": name, "name": "Docs Reader",
             "email": f"{name}@example.com", "email_verified": True}  # fmt: skip
    token = oidc_provider.access_token(login=login)
    site = Site(server=auth0_app_server, token=token, viewer=None, seeder=seeder)
    # The first request makes the person, as for anyone seen first through the API.
    username = site.data("{ me { username } }")["me"]["username"]
    site.viewer = _viewer_named(app_settings["DATABASE_URL"], username)
    site.extra_env = {"AUTH0_ISSUER": oidc_provider.issuer, "AUTH0_AUDIENCE": AUDIENCE,
                      "M2M_CLIENT_ID": CLIENT_ID, "M2M_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
    return site


@pytest.fixture(params=["development", "auth0"])
def site(request) -> Site:
    return request.getfixturevalue(f"{request.param}_site")


# -- what each example is given ------------------------------------------------------------


def unique_jpeg(path: Path) -> Path:
    """A picture nobody has uploaded before (the same bytes twice are a duplicate)."""
    picture = samples.photo(640, 480)
    picture.paste(tuple(secrets.token_bytes(3)), (0, 0, 64, 64))
    out = io.BytesIO()
    picture.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


@dataclass
class Given:
    """The environment of one example: fresh images and a comment of the reader's."""

    image_id: str
    other_image_id: str
    share_code: str
    comment_id: str
    folder: Path

    def env(self, site: Site) -> dict[str, str]:
        return {
            "IMAGESHARE_URL": site.server.url,
            "IMAGESHARE_TOKEN": site.token,
            "USERNAME": site.viewer.username,
            "IMAGE_ID": self.image_id,
            "OTHER_IMAGE_ID": self.other_image_id,
            "SHARE_CODE": self.share_code,
            "COMMENT_ID": self.comment_id,
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            **site.extra_env,
        }


@pytest.fixture
def given(site: Site, tmp_path) -> Given:
    details = {"description": "Boats going out.", "location": "Lisbon, Portugal",
               "tags": ("sea", "boats")}  # fmt: skip
    image_id = str(site.seeder.image(site.viewer, "Harbour at dawn", **details))
    other_id = str(site.seeder.image(site.viewer, "Harbour at dusk", **details))
    found = site.data("query($id: ID!) { image(id: $id) { shareUrl } }", {"id": image_id})
    comment = site.data(
        'mutation($id: ID!) { addComment(imageId: $id, body: "First!") { id } }', {"id": image_id}
    )["addComment"]
    unique_jpeg(tmp_path / "photo.jpg")
    return Given(
        image_id=image_id,
        other_image_id=other_id,
        share_code=found["image"]["shareUrl"].rsplit("/", 1)[1],
        comment_id=comment["id"],
        folder=tmp_path,
    )


def command(block: Block) -> list[str]:
    if block.language == "sh":
        return ["bash", "-euo", "pipefail", "-c", block.code]
    return [str(VENV_BIN / "python"), "-c", HELPERS + "\n" + block.code]


def answers(output: str) -> list[dict]:
    """The JSON documents an example printed (curl prints the response; Python its data),
    each as its `data`; other lines are passed over."""
    found, decoder = [], json.JSONDecoder()
    for match in re.finditer(r"^(?:data: )?\{", output, re.M):
        start = match.end() - 1
        try:
            document, _ = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            continue
        assert not document.get("errors"), document
        found.append(document.get("data", document))
    return found


# -- queries and mutations -----------------------------------------------------------------


IMAGE_AFTER = "query($id: ID!) { image(id: $id) { id title tags visibility status } }"


def check_me(site: Site, given: Given, data: dict) -> None:
    assert data["me"]["username"] == site.viewer.username


def check_user(site: Site, given: Given, data: dict) -> None:
    ids = [e["node"]["id"] for e in data["user"]["images"]["edges"]]
    assert given.image_id in ids and data["user"]["imageCount"] >= 2


def check_image(site: Site, given: Given, data: dict) -> None:
    image = data["image"]
    assert image["id"] == given.image_id and image["tags"] == ["boats", "sea"]
    assert image["thumb"].startswith("http") and image["originalUrl"].startswith("http")
    assert image["comments"]["edges"][0]["node"]["body"] == "First!"


def check_image_by_share_code(site: Site, given: Given, data: dict) -> None:
    assert data["imageByShareCode"]["id"] == given.image_id


def check_images(site: Site, given: Given, data: dict) -> None:
    assert given.image_id in [e["node"]["id"] for e in data["images"]["edges"]]


def check_comments(site: Site, given: Given, data: dict) -> None:
    assert [e["node"]["id"] for e in data["comments"]["edges"]] == [given.comment_id]


def check_tags(site: Site, given: Given, data: dict) -> None:
    assert "sea" in [t["name"] for t in data["tags"]]


def check_upload_image(site: Site, given: Given, data: dict) -> None:
    uploaded = data["uploadImage"]
    assert uploaded["title"] == "Harbour at dawn" and uploaded["status"] == "PROCESSING"
    deadline = time.monotonic() + 30
    while site.data(IMAGE_AFTER, {"id": uploaded["id"]})["image"]["status"] != "READY":
        assert time.monotonic() < deadline, "the uploaded image never became ready"
        time.sleep(0.2)


def check_update_image(site: Site, given: Given, data: dict) -> None:
    after = site.data(IMAGE_AFTER, {"id": given.image_id})["image"]
    assert after["title"] == data["updateImage"]["title"] == "Harbour, first light"
    assert after["visibility"] in ("UNLISTED", "PRIVATE")


def check_delete_image(site: Site, given: Given, data: dict) -> None:
    assert data["deleteImage"] == given.image_id
    assert site.data(IMAGE_AFTER, {"id": given.image_id})["image"] is None


def check_delete_images(site: Site, given: Given, data: dict) -> None:
    assert sorted(data["deleteImages"]) == sorted([given.image_id, given.other_image_id])
    for image_id in data["deleteImages"]:
        assert site.data(IMAGE_AFTER, {"id": image_id})["image"] is None


def check_add_comment(site: Site, given: Given, data: dict) -> None:
    listed = site.data(
        "query($id: ID!) { comments(imageId: $id) { edges { node { id body } } } }",
        {"id": given.image_id},
    )["comments"]["edges"]
    assert [e["node"]["body"] for e in listed] == ["First!", "Lovely light."]


def check_delete_comment(site: Site, given: Given, data: dict) -> None:
    assert data["deleteComment"] == given.comment_id
    listed = site.data(
        "query($id: ID!) { comments(imageId: $id) { edges { node { id } } } }",
        {"id": given.image_id},
    )["comments"]["edges"]
    assert listed == []


def check_regenerate_share_code(site: Site, given: Given, data: dict) -> None:
    assert not data["regenerateShareCode"]["shareUrl"].endswith("/" + given.share_code)
    old = site.data("query($c: String!) { imageByShareCode(code: $c) { id } }",
                    {"c": given.share_code})  # fmt: skip
    assert old["imageByShareCode"] is None


CHECKS: dict[str, Callable[[Site, Given, dict], None]] = {
    "me": check_me,
    "user": check_user,
    "image": check_image,
    "imageByShareCode": check_image_by_share_code,
    "images": check_images,
    "comments": check_comments,
    "tags": check_tags,
    "uploadImage": check_upload_image,
    "updateImage": check_update_image,
    "deleteImage": check_delete_image,
    "deleteImages": check_delete_images,
    "addComment": check_add_comment,
    "deleteComment": check_delete_comment,
    "regenerateShareCode": check_regenerate_share_code,
}


def _example_id(block: Block) -> str:
    return f"{block.heading}-{'curl' if block.language == 'sh' else 'python'}"


@pytest.mark.parametrize(
    "block", [b for b in EXAMPLES if b.section != "Subscriptions"], ids=_example_id
)
def test_query_and_mutation_examples_do_what_the_page_says(site, given, block):
    result = subprocess.run(
        command(block), cwd=given.folder, env=given.env(site), capture_output=True, text=True,
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, f"{block.heading} failed:\n{result.stdout}\n{result.stderr}"
    documents = answers(result.stdout)
    assert documents, f"{block.heading} printed no answer:\n{result.stdout}"
    for data in documents:
        assert data.get(block.heading) is not None, data
    # The last answer is the operation as the page means it (the loop's final page).
    CHECKS[block.heading](site, given, documents[-1])


# -- subscriptions -------------------------------------------------------------------------


class Trigger:
    """Makes the event a subscription waits for, once per call, and says whether an
    event is one of those it made."""

    def __init__(self, site: Site, given: Given, operation: str):
        self.site, self.given, self.operation = site, given, operation
        self.made: set[str] = set()

    def __call__(self) -> None:
        site, image_id = self.site, self.given.image_id
        if self.operation in ("commentAdded", "commentDeleted"):
            added = site.data(
                'mutation($id: ID!) { addComment(imageId: $id, body: "Hello") { id } }',
                {"id": image_id},
            )["addComment"]["id"]
            if self.operation == "commentDeleted":
                site.data("mutation($id: ID!) { deleteComment(id: $id) }", {"id": added})
            self.made.add(added)
        else:  # imageStatusChanged, imageAdded: a public upload that becomes ready
            photo = unique_jpeg(self.given.folder / f"trigger-{len(self.made)}.jpg")
            self.made.add(self.site.upload(photo, visibility="PUBLIC"))

    def is_ours(self, event: dict) -> bool:
        if event.get("id") not in self.made:
            return False
        if self.operation == "imageStatusChanged":
            return event["status"] == "READY"
        if self.operation == "commentDeleted":
            return event["imageId"] == self.given.image_id
        return True


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.mark.parametrize(
    "block", [b for b in EXAMPLES if b.section == "Subscriptions"], ids=_example_id
)
def test_subscription_examples_print_the_events_they_promise(site, given, block):
    trigger = Trigger(site, given, block.heading)
    process = subprocess.Popen(
        command(block), cwd=given.folder, env=given.env(site), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        printed = _lines(process)
        deadline, next_tick, output = time.monotonic() + EVENT_TIMEOUT, 0.0, []
        while True:
            assert process.poll() is None, f"{block.heading} ended:\n{''.join(output)}"
            assert time.monotonic() < deadline, f"no event arrived:\n{''.join(output)}"
            if time.monotonic() >= next_tick:
                # Again and again: the example may not have subscribed yet.
                trigger()
                next_tick = time.monotonic() + TICK
            try:
                line = printed.get(timeout=0.1)
            except queue.Empty:
                continue
            output.append(line)
            events = [d[block.heading] for d in answers(line) if d.get(block.heading)]
            if any(trigger.is_ours(event) for event in events):
                break
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "Traceback" not in errors, errors


# -- getting a token -----------------------------------------------------------------------


def test_the_machine_token_request_gets_a_token_the_api_accepts(auth0_site, tmp_path):
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", MACHINE_TOKEN_REQUEST], cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **auth0_site.extra_env}, capture_output=True, text=True,
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    token = json.loads(result.stdout)["access_token"]
    # The application acts as an account of its own, named after its client.
    me = auth0_site.data("{ me { username } }", token=token)["me"]
    assert me["username"] == CLIENT_ID


# -- the error example -----------------------------------------------------------------------


def test_the_error_example_is_what_the_api_answers(development_site):
    mutation = 'mutation($id: ID!) { addComment(imageId: $id, body: "Hi") { id } }'
    assert f"`{mutation}`" in DOC.read_text()
    shown, _costly = [b.code for b in BLOCKS if b.section == "Errors" and b.language == "json"]
    answer = development_site.post(mutation, {"id": "00000000-0000-4000-8000-000000000000"})
    assert answer == json.loads(shown)


def test_the_costly_example_is_refused_as_shown(development_site):
    (query,) = [b.code for b in BLOCKS if b.section == "Errors" and b.language == "graphql"]
    _not_found, shown = [b.code for b in BLOCKS if b.section == "Errors" and b.language == "json"]
    assert development_site.post(query) == json.loads(shown)
