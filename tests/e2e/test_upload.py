"""Uploading through the page, in Chromium, against the app on Postgres and SeaweedFS."""

import io
import json
import re
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect
from websockets.sync.client import connect

from imageshare.auth import access_tokens
from tests import samples
from tests.e2e.test_browse_and_share import unique
from tests.e2e.test_development_sign_in import sign_in_as
from tests.harness.app_server import APP_BUCKET
from tests.harness.browser import screenshot
from tests.harness.subscriber import Subscriber


def test_three_images_become_ready_and_a_fake_is_refused(
    app_server, page, postgres_url, s3_server, tmp_path
):
    portrait = tmp_path / "portrait.jpg"
    upright = Image.new("RGB", (900, 1350), "white")
    upright.paste((220, 0, 0), (0, 0, 900, 120))  # red along the top, when upright
    portrait.write_bytes(
        samples.encoded(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=92,
                        exif=samples.camera_exif(orientation=6))
    )  # fmt: skip
    diagram = tmp_path / "diagram.png"
    diagram.write_bytes(samples.encoded(samples.photo(640, 480), "PNG"))
    webp = tmp_path / "evening.webp"
    webp.write_bytes(samples.encoded(samples.photo(1200, 800), "WEBP"))
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a picture\n" * 50)

    page.goto(app_server.url + "/upload")
    sign_in_as(page, "uploader")
    expect(page.get_by_role("heading", name="Upload images")).to_be_visible()
    page.locator("input[type=file]").set_input_files(
        [str(portrait), str(diagram), str(webp), str(fake)]
    )
    expect(page.locator(".selected-file")).to_have_count(4)
    page.get_by_label("Title for portrait.jpg").fill("Red roof, upright")
    page.get_by_label("Tags").fill("Test, Upload")
    page.get_by_label("Location").fill("Lyon")
    screenshot(page, "upload-selected")
    page.get_by_role("button", name="Upload").click()

    rows = page.locator(".upload-row")
    expect(rows).to_have_count(4)
    for name in ("portrait.jpg", "diagram.png", "evening.webp"):
        expect(rows.filter(has_text=name)).to_have_attribute("data-status", "ready", timeout=30_000)
    refused = rows.filter(has_text="notes.jpg")
    expect(refused).to_have_attribute("data-status", "refused")
    expect(refused).to_contain_text(
        "notes.jpg was not uploaded: it is not an image this site accepts"
    )
    expect(page.get_by_role("link", name="Go to my images")).to_be_visible()
    screenshot(page, "upload-done")

    # Straight on to the images: the profile lists them, each row links to its page.
    image_link = rows.filter(has_text="diagram.png").get_by_role("link", name="Open image")
    image_path = image_link.get_attribute("href")
    page.get_by_role("link", name="Go to my images").click()
    expect(page).to_have_url(re.compile(r"/u/uploader$"))
    expect(page.locator(".image-card")).to_have_count(3)
    page.goto(app_server.url + image_path)
    expect(page.get_by_role("heading", name="diagram", level=1)).to_be_visible()
    expect(page.locator("#image-location")).to_have_text("Lyon")

    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        images = connection.execute(
            sa.text(
                "SELECT i.id, i.title, i.status, i.width, i.height, i.has_location, i.location "
                "FROM image i JOIN \"user\" u ON u.id = i.owner_id WHERE u.username = 'uploader'"
            )
        ).all()
        tags = connection.execute(
            sa.text("SELECT name FROM tag WHERE name IN ('test', 'upload')")
        ).all()
    engine.dispose()
    assert sorted(i.title for i in images) == ["Red roof, upright", "diagram", "evening"]
    assert {i.status for i in images} == {"ready"} and {i.location for i in images} == {"Lyon"}
    assert len(tags) == 2
    portrait_row = next(i for i in images if i.title == "Red roof, upright")
    assert (portrait_row.width, portrait_row.height, portrait_row.has_location) == (900, 1350, True)

    s3 = s3_server.client()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=APP_BUCKET).get("Contents", [])}
    for image in images:
        assert f"originals/{image.id}" in keys
        assert f"renditions/{image.id}/thumb.webp" in keys
    thumb = s3.get_object(Bucket=APP_BUCKET, Key=f"renditions/{portrait_row.id}/thumb.webp")[
        "Body"
    ].read()
    picture = Image.open(io.BytesIO(thumb))
    assert picture.size == (200, 300)  # upright
    assert not picture.getexif() and "exif" not in picture.info  # no GPS, no camera data
    assert picture.convert("RGB").getpixel((100, 5))[0] > 180  # the red band is on top
    assert re.fullmatch(r"[0-9a-f-]{36}", str(portrait_row.id))


def test_anonymous_visitors_are_sent_to_sign_in_first(app_server, page):
    page.goto(app_server.url + "/upload")
    expect(page).to_have_url(app_server.url + "/auth/login?next=%2Fupload")


def test_progress_is_shown_and_cancel_stores_nothing(
    app_server, page, postgres_url, s3_server, tmp_path
):
    big = tmp_path / "big.jpg"
    big.write_bytes(samples.jpeg(1200, 800)[:-2] + bytes(12 * 1024 * 1024))  # slow to send
    page.goto(app_server.url + "/upload")
    sign_in_as(page, "canceller")
    expect(page.get_by_role("heading", name="Upload images")).to_be_visible()
    # A slow connection (about 2 MB/s), so the upload is still going when we cancel.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20,
             "downloadThroughput": 10_000_000, "uploadThroughput": 2_000_000})  # fmt: skip
    bucket = s3_server.client()
    objects_before = bucket.list_objects_v2(Bucket=APP_BUCKET).get("KeyCount", 0)
    page.locator("input[type=file]").set_input_files(str(big))
    page.get_by_role("button", name="Upload").click()

    row = page.locator(".upload-row").filter(has_text="big.jpg")
    expect(row).to_have_attribute("data-status", "uploading")
    expect(row.get_by_role("progressbar")).to_be_visible()
    screenshot(page, "upload-progress")
    page.get_by_role("button", name="Cancel").click()
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row).to_contain_text("Cancelled; nothing was stored.")

    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM image i JOIN \"user\" u ON u.id = i.owner_id "
                    "WHERE u.username = 'canceller'")
        ).scalar_one()  # fmt: skip
    engine.dispose()
    assert count == 0
    assert bucket.list_objects_v2(Bucket=APP_BUCKET).get("KeyCount", 0) == objects_before


def test_the_upload_form_fits_a_phone(app_server, phone_page, tmp_path):
    files = []
    for name in ("a-rather-long-file-name-from-a-camera.jpg", "b.jpg"):
        path = tmp_path / name
        path.write_bytes(samples.jpeg(300, 200))
        files.append(str(path))
    phone_page.goto(app_server.url + "/upload")
    sign_in_as(phone_page, "phone")
    expect(phone_page.get_by_role("heading", name="Upload images")).to_be_visible()
    phone_page.locator("input[type=file]").set_input_files(files)
    expect(phone_page.locator(".selected-file")).to_have_count(2)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    title = phone_page.get_by_label("Title for b.jpg").bounding_box()
    assert title["width"] >= 150, "the title field must stay usable on a phone"
    screenshot(phone_page, "upload-phone")


STATUS_CHANGED = "subscription { imageStatusChanged { title status } }"


def status_events(subscriber: Subscriber, count: int) -> list[tuple[str, str]]:
    """The next `count` status events a person's uploads caused, as (title, status)."""
    changed = [subscriber.next("imageStatusChanged", timeout=30)[1] for _ in range(count)]
    return sorted((c["title"], c["status"]) for c in changed)


def upload_through_the_api(server, token: str, path: Path, details: dict) -> dict:
    query = ("mutation($f: Upload!, $i: UploadImageInput) "
             "{ uploadImage(file: $f, input: $i) { id status } }")  # fmt: skip
    response = httpx.post(
        server.url + "/graphql",
        data={"operations": json.dumps({"query": query, "variables": {"f": None, "i": details}}),
              "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (path.name, path.read_bytes(), "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )  # fmt: skip
    return response.json()


def what_was_made(postgres_url, s3_server, username: str) -> dict[str, dict]:
    """Per title: the row (without ids and times), its tags, renditions and objects."""
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT i.id, i.title, i.status, i.failure_reason, i.processing_attempts, "
                "i.content_type, i.byte_size, i.sha256, i.width, i.height, i.visibility, "
                "i.location, i.description, i.camera_make, i.camera_model, i.iso, "
                "i.exposure_time, i.has_location, i.gps_latitude, i.placeholder <> '' AS preview, "
                "(SELECT string_agg(t.name, ',' ORDER BY t.name) FROM image_tag it "
                " JOIN tag t ON t.id = it.tag_id WHERE it.image_id = i.id) AS tags, "
                "(SELECT string_agg(r.name || ' ' || r.width || 'x' || r.height, ',' "
                " ORDER BY r.width) FROM rendition r WHERE r.image_id = i.id) AS renditions "
                'FROM image i JOIN "user" u ON u.id = i.owner_id WHERE u.username = :name'
            ),
            {"name": username},
        ).mappings().all()  # fmt: skip
    engine.dispose()
    bucket = s3_server.client().list_objects_v2(Bucket=APP_BUCKET).get("Contents", [])
    made = {}
    for row in rows:
        image_id = str(row["id"])
        objects = sorted(o["Key"].replace(image_id, "ID") for o in bucket if image_id in o["Key"])
        made[row["title"]] = {**{k: v for k, v in row.items() if k != "id"}, "objects": objects}
    return made


def test_the_upload_page_and_the_api_make_the_same_images_and_events(
    app_server, page, seeder, postgres_url, s3_server, tmp_path
):
    """One workflow behind both: the same files and details give the same rows, objects
    and status events, whether they come through the page or through `uploadImage`."""
    camera = tmp_path / "camera.jpg"
    camera.write_bytes(samples.jpeg(2400, 1600, exif=samples.camera_exif()))
    clear = tmp_path / "clear.png"
    glass = Image.new("RGBA", (640, 480), (0, 0, 0, 0))
    glass.paste((30, 120, 200, 160), (80, 60, 560, 420))
    clear.write_bytes(samples.encoded(glass, "PNG"))
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture\n" * 40)
    files = [camera, clear, notes]
    details = {"tags": ["sea", "boats"], "location": "Honfleur", "visibility": "UNLISTED"}

    by_page, by_api = unique("bypage"), unique("byapi")
    tokens = {}
    for name in (by_page, by_api):
        person = seeder.person(name)
        with seeder.sessions() as db:
            tokens[name] = access_tokens.create(db, viewer=person, name="watch")[1]
    url = app_server.url.replace("http://", "ws://") + "/graphql"
    with (
        connect(url, subprotocols=["graphql-transport-ws"]) as page_socket,
        connect(url, subprotocols=["graphql-transport-ws"]) as api_socket,
    ):
        watchers = {by_page: Subscriber(page_socket, STATUS_CHANGED, token=tokens[by_page]),
                    by_api: Subscriber(api_socket, STATUS_CHANGED, token=tokens[by_api])}  # fmt: skip
        time.sleep(0.5)  # the subscriptions are in place before anything is uploaded

        page.goto(app_server.url + "/upload")
        sign_in_as(page, by_page)
        expect(page.get_by_role("heading", name="Upload images")).to_be_visible()
        page.locator("input[type=file]").set_input_files([str(f) for f in files])
        page.get_by_label("Tags").fill("Sea, Boats")
        page.get_by_label("Location").fill("Honfleur")
        page.get_by_role("radio", name="Unlisted").click()
        page.get_by_role("button", name="Upload").click()
        rows = page.locator(".upload-row")
        for name in ("camera.jpg", "clear.png"):
            expect(rows.filter(has_text=name)).to_have_attribute(
                "data-status", "ready", timeout=30_000
            )
        expect(rows.filter(has_text="notes.jpg")).to_have_attribute("data-status", "refused")
        page_refusal = rows.filter(has_text="notes.jpg").inner_text()

        answers = [upload_through_the_api(app_server, tokens[by_api], f, details) for f in files]
        assert [a["data"]["uploadImage"]["status"] for a in answers[:2]] == ["PROCESSING"] * 2
        api_refusal = answers[2]["errors"][0]
        assert api_refusal["extensions"]["code"] == "INVALID_INPUT"
        assert api_refusal["message"] in page_refusal  # the same sentence on both
        events = {name: status_events(watcher, 2) for name, watcher in watchers.items()}
        time.sleep(0.5)
        assert all(w.received.empty() for w in watchers.values()), "more events than images"

    through_page = what_was_made(postgres_url, s3_server, by_page)
    through_api = what_was_made(postgres_url, s3_server, by_api)
    assert set(through_page) == {"camera", "clear"}
    assert through_page == through_api
    assert through_page["camera"]["camera_model"] == "X-T5"
    assert through_page["camera"]["tags"] == "boats,sea"
    assert through_page["camera"]["objects"] == [
        "originals/ID", "renditions/ID/large.webp", "renditions/ID/medium.webp",
        "renditions/ID/thumb.webp",
    ]  # fmt: skip
    expected = {("camera", "READY"), ("clear", "READY")}
    assert events[by_page] == events[by_api] == sorted(expected)
