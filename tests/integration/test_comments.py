"""Comments on SQLite and Postgres, beyond test_comments_and_links.py: what a comment may
say, pages that stay right when comments share a timestamp, who may delete, what
happens when an image is made private or deleted, and the events a watching page gets —
in-process and through Redis, only ever for what was committed."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from collections.abc import Callable

import pytest
import redis
import sqlalchemy as sa
from sqlmodel import Session, select

from imageshare import events as events_module
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.comments import service as comments
from imageshare.comments.models import Comment
from imageshare.db import session_scope
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.events import Event, Events, InProcessEvents, RedisEvents, image_topic
from imageshare.images import service as images
from imageshare.images.kinds import Status, Visibility
from imageshare.images.service import ImagePatch
from imageshare.settings import load_settings
from imageshare.sharing import service as sharing
from tests.harness.rows import START, image, person

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


def bodies(db, image_id) -> list[str]:
    """What is stored, straight from the table."""
    query = select(Comment.body).where(Comment.image_id == image_id).order_by(Comment.id)
    return list(db.exec(query).all())


@pytest.fixture
def scene(engine):
    """An owner's public image, and two other people."""
    with Session(engine) as db:
        owner, author, third = person(db, "owner"), person(db, "author"), person(db, "third")
        shown = image(db, owner, "shown")
        db.commit()
        return owner, author, third, shown.id


def test_what_a_comment_may_say(engine, scene):
    owner, author, _, image_id = scene
    with Session(engine) as db:
        with pytest.raises(NotAllowed):
            comments.add_comment(db, viewer=ANONYMOUS, image_id=image_id, body="hello")
        for empty in ("", " ", "\n\t  \r\n", None):
            with pytest.raises(InvalidInput):
                comments.add_comment(db, viewer=author, image_id=image_id, body=empty)
        too_long = "é" * 2001
        with pytest.raises(InvalidInput) as refusal:
            comments.add_comment(db, viewer=author, image_id=image_id, body=too_long)
        assert "2,000" in str(refusal.value)
        db.commit()
        assert bodies(db, image_id) == []  # nothing of the refused ones was kept

        padded = comments.add_comment(db, viewer=author, image_id=image_id, body="  hi there \n")
        lines = comments.add_comment(
            db, viewer=author, image_id=image_id, body="\nfirst line\n\nsecond line\n"
        )
        longest = comments.add_comment(
            db, viewer=author, image_id=image_id, body="  " + "é" * 2000 + "\n"
        )  # 2,000 characters once trimmed
        markup = comments.add_comment(
            db, viewer=owner, image_id=image_id, body="<b>hi</b> &amp; <img src=x onerror=alert(1)>"
        )
        db.commit()
        assert padded.body == "hi there"
        assert lines.body == "first line\n\nsecond line"
        assert len(longest.body) == 2000
    with Session(engine) as db:  # as the next page load reads them
        assert bodies(db, image_id) == [
            "hi there",
            "first line\n\nsecond line",
            "é" * 2000,
            "<b>hi</b> &amp; <img src=x onerror=alert(1)>",  # text, verbatim, not cleaned
        ]
        listed = comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id).items
        assert [c.body for c in listed] == bodies(db, image_id)
        assert listed[-1].id == markup.id and listed[-1].author.username == "owner"
        assert comments.count_comments(db, viewer=ANONYMOUS, image_id=image_id) == 4


def test_comments_sharing_one_timestamp_are_paged_once_each_oldest_first(engine, scene):
    owner, author, _, image_id = scene
    with Session(engine) as db:
        for n in range(130):
            comments.add_comment(
                db, viewer=(owner, author)[n % 2], image_id=image_id, body=f"c{n:03d}"
            )
        db.commit()
        # A burst: sixty comments recorded in the same instant.
        db.exec(
            sa.update(Comment).where(Comment.body.between("c030", "c089")).values(created_at=START)
        )
        db.commit()
        ids = {c.body: c.id for c in db.exec(select(Comment)).all()}
        burst = {f"c{n:03d}" for n in range(30, 90)}
        expected = sorted(burst, key=ids.get) + sorted(set(ids) - burst, key=ids.get)

        seen, after, sizes = [], None, []
        while True:
            page = comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, after=after)
            seen += [c.body for c in page.items]
            sizes.append(len(page.items))
            if page.after is None:
                break
            after = page.after
        assert sizes == [50, 50, 30]
        assert seen == expected  # the burst (oldest) first, ties in the order written
        assert len(set(seen)) == 130

        big = comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, limit=100)
        assert len(big.items) == 100 and big.after == comments.cursor_of(big.items[-1])
        with pytest.raises(InvalidInput, match="between 1 and 100"):
            comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, limit=10_000)


def test_load_more_goes_on_after_the_last_comment_shown_is_deleted(engine, scene):
    """The cursor names a time and an id, not a row that must still exist: deleting the
    last comment a reader has loaded does not break their "load more"."""
    owner, author, _, image_id = scene
    with Session(engine) as db:
        for n in range(3):
            comments.add_comment(db, viewer=author, image_id=image_id, body=f"c{n}")
        db.commit()
        first = comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, limit=2)
        assert [c.body for c in first.items] == ["c0", "c1"] and first.after is not None
        comments.delete_comment(db, viewer=author, comment_id=first.items[-1].id)
        db.commit()
        rest = comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, after=first.after)
        assert [c.body for c in rest.items] == ["c2"] and rest.after is None
        # Garbage, ids past Postgres's 32-bit keys and non-digits are refused.
        when = "2026-01-01T00:00:00+00:00"
        for text in ("not a cursor", f"{when}|{2**31}", f"{when}|-1", f"{when}|\u00b2", when):
            cursor = base64.urlsafe_b64encode(text.encode()).decode()
            with pytest.raises(InvalidInput, match="page link is not valid"):
                comments.list_comments(db, viewer=ANONYMOUS, image_id=image_id, after=cursor)
        for unknown in (first.items[-1].id, 2**31, 10**30, -1):
            with pytest.raises(NotFound):
                comments.get_comment(db, viewer=ANONYMOUS, comment_id=unknown)
            with pytest.raises(NotFound):
                comments.delete_comment(db, viewer=author, comment_id=unknown)


def test_who_may_delete_which_comment(engine, scene):
    owner, author, third, image_id = scene
    with Session(engine) as db:
        by_author = comments.add_comment(db, viewer=author, image_id=image_id, body="author's")
        by_third = comments.add_comment(db, viewer=third, image_id=image_id, body="third's")
        by_owner = comments.add_comment(db, viewer=owner, image_id=image_id, body="owner's")
        db.commit()

        def flags(viewer: Viewer) -> list[bool]:
            page = comments.list_comments(db, viewer=viewer, image_id=image_id)
            return [c.can_delete for c in page.items]

        assert flags(owner) == [True, True, True]  # everything on their image
        assert flags(author) == [True, False, False]
        assert flags(third) == [False, True, False]
        assert flags(ANONYMOUS) == [False, False, False]

        for viewer, comment in ((third, by_author), (author, by_owner), (ANONYMOUS, by_third)):
            with pytest.raises(NotAllowed):
                comments.delete_comment(db, viewer=viewer, comment_id=comment.id)
        db.commit()
        assert bodies(db, image_id) == ["author's", "third's", "owner's"]

        assert comments.delete_comment(db, viewer=author, comment_id=by_author.id) == image_id
        assert comments.delete_comment(db, viewer=owner, comment_id=by_third.id) == image_id
        db.commit()
        assert bodies(db, image_id) == ["owner's"]
        with pytest.raises(NotFound):
            comments.delete_comment(db, viewer=author, comment_id=by_author.id)
        with pytest.raises(NotFound):
            comments.get_comment(db, viewer=owner, comment_id=by_third.id)
        assert comments.count_comments(db, viewer=third, image_id=image_id) == 1


def test_a_private_image_keeps_its_comments_from_everyone_else(engine, scene):
    owner, author, third, image_id = scene
    with Session(engine) as db:
        said = comments.add_comment(db, viewer=author, image_id=image_id, body="lovely")
        db.commit()
        images.update_image(
            db,
            viewer=owner,
            image_id=image_id,
            patch=ImagePatch(title="shown", visibility="private"),
        )
        db.commit()

        # Even the comment's author: the image is as if it did not exist.
        for viewer in (author, third, ANONYMOUS):
            with pytest.raises(NotFound):
                comments.list_comments(db, viewer=viewer, image_id=image_id)
            with pytest.raises(NotFound):
                comments.get_comment(db, viewer=viewer, comment_id=said.id)
            with pytest.raises(NotFound):
                comments.delete_comment(db, viewer=viewer, comment_id=said.id)
        for viewer in (author, third):
            with pytest.raises(NotFound):
                comments.add_comment(db, viewer=viewer, image_id=image_id, body="hello?")
        with pytest.raises(NotAllowed):  # anonymous: told to sign in, learns nothing
            comments.add_comment(db, viewer=ANONYMOUS, image_id=image_id, body="hello?")
        db.commit()
        assert bodies(db, image_id) == ["lovely"]
        mine = comments.list_comments(db, viewer=owner, image_id=image_id).items
        assert [c.body for c in mine] == ["lovely"] and mine[0].can_delete


def test_unlisted_images_take_comments_and_deleting_ones_do_not(engine, scene):
    owner, author, _, _ = scene
    with Session(engine) as db:
        unlisted = image(db, owner, "by link", visibility=Visibility.UNLISTED).id
        going = image(db, owner, "going").id
        comments.add_comment(db, viewer=author, image_id=going, body="before")
        db.commit()
        comments.add_comment(db, viewer=author, image_id=unlisted, body="found it")
        assert [
            c.body for c in comments.list_comments(db, viewer=ANONYMOUS, image_id=unlisted).items
        ] == ["found it"]

        images.begin_deletion(db, viewer=owner, image_ids=[going])
        db.commit()
        assert db.get(images.Image, going).status == Status.DELETING
        for viewer in (owner, author, ANONYMOUS):
            with pytest.raises(NotFound):
                comments.list_comments(db, viewer=viewer, image_id=going)
        for viewer in (owner, author):
            with pytest.raises(NotFound):
                comments.add_comment(db, viewer=viewer, image_id=going, body="after")
        with pytest.raises(NotFound):
            comments.add_comment(db, viewer=owner, image_id=uuid.uuid4(), body="nowhere")


# -- events ----------------------------------------------------------------------------


class Listener:
    """A watching page: subscribed to a topic on an event loop of its own (as the app's
    is, apart from the worker threads that commit), reading each comment it hears of
    through the service, as the page does."""

    def __init__(self, events: Events, topic: str, read: Callable[[Event], object] = None):
        self.events, self.topic, self.read = events, topic, read
        self.received: list[Event] = []
        self.read_back: list[object] = []
        self._ready, self._stop = threading.Event(), threading.Event()
        self._failure: BaseException | None = None

    async def _listen(self):
        try:
            async with self.events.subscribe(self.topic) as subscription:
                await subscription.next(timeout=0.2)  # Redis: the subscription is confirmed
                self._ready.set()
                while not self._stop.is_set():
                    event = await subscription.next(timeout=0.05)
                    if event is None:
                        continue
                    self.received.append(event)
                    if self.read is not None:
                        self.read_back.append(await asyncio.to_thread(self.read, event))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self._failure = error
            self._ready.set()

    def __enter__(self) -> Listener:
        self._thread = threading.Thread(target=asyncio.run, args=(self._listen(),))
        self._thread.start()
        assert self._ready.wait(10), "the subscription never started"
        if self._failure:
            raise self._failure
        return self

    def wait_for(self, count: int, timeout: float = 5) -> list[Event]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def quiet(self, seconds: float = 0.3) -> list[Event]:
        """What arrived, after giving anything in flight time to arrive."""
        time.sleep(seconds)
        return self.received

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join(10)
        if self._failure:
            raise self._failure


@pytest.fixture
def in_process_events(monkeypatch) -> InProcessEvents:
    """The app's events as one instance without Redis has them."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    events = events_module.build_events(load_settings())
    assert isinstance(events, InProcessEvents)
    return events


def reader(engine, viewer: Viewer):
    def read(event: Event):
        with Session(engine) as db:
            try:
                return comments.get_comment(db, viewer=viewer, comment_id=event.data["comment_id"])
            except NotFound:
                return None

    return read


def test_a_watching_page_hears_of_a_comment_only_once_it_can_read_it(
    engine, scene, in_process_events
):
    owner, author, third, image_id = scene
    topic = image_topic(image_id)
    with (
        Listener(in_process_events, topic, read=reader(engine, third)) as page,
        Listener(in_process_events, image_topic(uuid.uuid4())) as elsewhere,
    ):
        with session_scope(engine, events=in_process_events) as db:
            added = comments.add_comment(db, viewer=author, image_id=image_id, body="first!")
            assert page.quiet() == []  # not before the commit
        assert page.wait_for(1) == [Event(topic, comments.ADDED, {"comment_id": added.id})]

        with pytest.raises(RuntimeError), session_scope(engine, events=in_process_events) as db:
            comments.add_comment(db, viewer=author, image_id=image_id, body="never saved")
            raise RuntimeError("the request failed after the comment was written")

        with session_scope(engine, events=in_process_events) as db:
            comments.delete_comment(db, viewer=owner, comment_id=added.id)
        received = page.wait_for(2)
        assert page.quiet() == received
    assert [(e.kind, e.data) for e in received] == [
        (comments.ADDED, {"comment_id": added.id}),  # ids only: never the text
        (comments.DELETED, {"comment_id": added.id}),
    ]
    # When it heard of the comment, the page could read it (and the deletion: not).
    assert [c.body if c else None for c in page.read_back] == ["first!", None]
    assert elsewhere.received == []


def test_a_private_images_events_show_others_nothing(engine, scene, in_process_events):
    owner, _, third, _ = scene
    with Session(engine) as db:
        hidden = image(db, owner, "hidden", visibility=Visibility.PRIVATE).id
        db.commit()
    with Listener(in_process_events, image_topic(hidden), read=reader(engine, third)) as page:
        with session_scope(engine, events=in_process_events) as db:
            comments.add_comment(db, viewer=owner, image_id=hidden, body="note to self")
        assert len(page.wait_for(1)) == 1
        page.quiet(0.1)
    assert page.read_back == [None]  # the event names an id; reading it is refused


def test_savepoints_do_not_publish_early_or_lose_events(engine, scene, in_process_events):
    """The events of a transaction follow the transaction, not the savepoints inside it
    (other services open savepoints: a new share code, a new tag, a sign-in)."""
    owner, author, _, image_id = scene
    topic = image_topic(image_id)
    with Listener(in_process_events, topic) as page:
        # A savepoint released, then the whole transaction rolled back: nothing to tell.
        with Session(engine) as db:
            events_module.deliver_to(db, in_process_events)  # as the app's sessions do
            comments.add_comment(db, viewer=author, image_id=image_id, body="rolled back")
            sharing.regenerate_code(db, viewer=owner, image_id=image_id)  # a savepoint
            early = list(page.quiet())
            db.rollback()
        assert early == [], "published at a savepoint, before the transaction committed"
        assert page.quiet() == []

        # A savepoint rolled back inside a transaction that commits: the comment is kept
        # and must be told; a comment written inside the rolled-back savepoint must not.
        with Session(engine) as db:
            events_module.deliver_to(db, in_process_events)
            kept = comments.add_comment(db, viewer=author, image_id=image_id, body="kept")
            try:
                with db.begin_nested():
                    comments.add_comment(db, viewer=owner, image_id=image_id, body="undone")
                    raise ValueError("something in the same request was refused")
            except ValueError:
                pass
            db.commit()
            assert bodies(db, image_id) == ["kept"]
        received = page.wait_for(1)
        assert page.quiet() == received
    assert [e.data for e in received] == [{"comment_id": kept.id}]


@pytest.fixture
def redis_events(monkeypatch) -> RedisEvents:
    """The app's events as several instances have them: through Redis."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not answering at {REDIS_URL}: {error}", pytrace=False)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    events = events_module.build_events(load_settings())
    assert isinstance(events, RedisEvents)
    return events


def test_through_redis_a_comment_committed_in_a_worker_thread_reaches_other_subscribers(
    engine, scene, redis_events
):
    owner, author, third, image_id = scene
    topic = image_topic(image_id)  # a topic of its own: others may use this Redis too
    # Two app instances' pages, each with its own connection to Redis.
    with (
        Listener(RedisEvents(REDIS_URL), topic, read=reader(engine, third)) as one,
        Listener(RedisEvents(REDIS_URL), topic) as two,
    ):

        def request():  # what a Reflex handler runs in a worker thread
            with session_scope(engine, events=redis_events) as db:
                return comments.add_comment(db, viewer=author, image_id=image_id, body="hej")

        worker = threading.Thread(target=lambda: results.append(request()))
        results: list = []
        worker.start()
        worker.join(10)
        added = results[0]
        expected = [Event(topic, comments.ADDED, {"comment_id": added.id})]
        assert one.wait_for(1) == expected
        assert two.wait_for(1) == expected
        assert one.quiet() == expected  # once, and nothing else
    assert [c.body for c in one.read_back] == ["hej"]


def test_redis_events_of_a_rolled_back_comment_never_leave_the_process(engine, scene, redis_events):
    _, author, third, image_id = scene
    topic = image_topic(image_id)
    with Listener(RedisEvents(REDIS_URL), topic, read=reader(engine, third)) as page:
        with Session(engine) as db:
            events_module.deliver_to(db, redis_events)
            comments.add_comment(db, viewer=author, image_id=image_id, body="no")
            db.rollback()
        # The positive control: a comment committed next is heard of, through the same
        # Redis, after anything the rolled-back one could have sent. (On SQLite the two
        # may share an id, so it is the count that tells them apart.)
        with session_scope(engine, events=redis_events) as db:
            kept = comments.add_comment(db, viewer=author, image_id=image_id, body="yes")
        expected = [Event(topic, comments.ADDED, {"comment_id": kept.id})]
        assert page.wait_for(1) == expected
        assert page.quiet(0.5) == expected, "an event of the rolled-back comment arrived"
    assert [c.body for c in page.read_back] == ["yes"]
