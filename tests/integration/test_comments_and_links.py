"""Comments and short links on SQLite and Postgres: who may do what, what is refused and
what the events tell a watching page; the Redis events across processes."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from sqlmodel import Session, select

from imageshare.auth.viewer import ANONYMOUS
from imageshare.comments import service as comments
from imageshare.comments.models import Comment
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.events import Event, InProcessEvents, RedisEvents, get_events, image_topic
from imageshare.images.kinds import Visibility
from imageshare.sharing import service as sharing
from imageshare.sharing.codes import is_share_code
from tests.harness.components import missing_component
from tests.harness.rows import image, person

REDIS_URL = "redis://127.0.0.1:6379/0"


def stored(db) -> list[str]:
    return [c.body for c in db.exec(select(Comment).order_by(Comment.id)).all()]


def test_comment_rules(engine):
    with Session(engine) as db:
        owner, author, third = person(db, "owner"), person(db, "author"), person(db, "third")
        shown = image(db, owner, "shown")
        db.commit()

        with pytest.raises(NotAllowed, match="Sign in to comment"):
            comments.add_comment(db, viewer=ANONYMOUS, image_id=shown.id, body="hello")
        for empty in ("", "   \n\t "):
            with pytest.raises(InvalidInput, match="cannot be empty"):
                comments.add_comment(db, viewer=author, image_id=shown.id, body=empty)
        with pytest.raises(InvalidInput, match="at most 2,000 characters; this one has 2,001"):
            comments.add_comment(db, viewer=author, image_id=shown.id, body="x" * 2001)
        db.rollback()
        assert stored(db) == []

        longest = comments.add_comment(db, viewer=author, image_id=shown.id, body="y" * 2000)
        markup = comments.add_comment(
            db, viewer=author, image_id=shown.id, body="  <script>alert(1)</script>  "
        )
        mine = comments.add_comment(db, viewer=third, image_id=shown.id, body="third's")
        db.commit()
        assert markup.body == "<script>alert(1)</script>"  # kept as text, only trimmed
        assert [c.can_delete for c in (longest, markup, mine)] == [True, True, True]

        listed = comments.list_comments(db, viewer=third, image_id=shown.id).items
        assert [c.can_delete for c in listed] == [False, False, True]
        with pytest.raises(NotAllowed, match="Only its author or the image's owner"):
            comments.delete_comment(db, viewer=third, comment_id=longest.id)
        comments.delete_comment(db, viewer=author, comment_id=longest.id)  # the author
        comments.delete_comment(db, viewer=owner, comment_id=mine.id)  # the image's owner
        db.commit()
        assert stored(db) == ["<script>alert(1)</script>"]
        with pytest.raises(NotFound):
            comments.delete_comment(db, viewer=owner, comment_id=mine.id)


def test_comments_of_a_private_image_are_its_owners_alone(engine):
    with Session(engine) as db:
        owner, other = person(db, "owner"), person(db, "other")
        hidden = image(db, owner, "hidden", visibility=Visibility.PRIVATE)
        db.commit()
        comments.add_comment(db, viewer=owner, image_id=hidden.id, body="note to self")
        db.commit()
        for viewer in (other, ANONYMOUS):
            with pytest.raises(NotFound):
                comments.list_comments(db, viewer=viewer, image_id=hidden.id)
        with pytest.raises(NotFound):
            comments.add_comment(db, viewer=other, image_id=hidden.id, body="hi")
        assert len(comments.list_comments(db, viewer=owner, image_id=hidden.id).items) == 1


def test_comments_come_oldest_first_fifty_at_a_time(engine):
    with Session(engine) as db:
        owner = person(db, "owner")
        shown = image(db, owner, "shown")
        for n in range(120):
            comments.add_comment(db, viewer=owner, image_id=shown.id, body=f"c{n}")
        db.commit()
        seen, after, pages = [], None, 0
        while True:
            page = comments.list_comments(db, viewer=ANONYMOUS, image_id=shown.id, after=after)
            seen += [c.body for c in page.items]
            pages += 1
            if page.after is None:
                break
            after = page.after
        assert seen == [f"c{n}" for n in range(120)] and pages == 3


def watch(topic: str):
    """Collect the events on `topic` published while the block runs, in this thread."""
    events = get_events()
    assert isinstance(events, InProcessEvents)
    received: list[Event] = []

    async def listen(ready: threading.Event, stop: threading.Event):
        async with events.subscribe(topic) as subscription:
            ready.set()
            while not stop.is_set():
                event = await subscription.next(timeout=0.05)
                if event is not None:
                    received.append(event)

    class Watcher:
        def __enter__(self):
            self.ready, self.stop = threading.Event(), threading.Event()
            self.thread = threading.Thread(
                target=asyncio.run, args=(listen(self.ready, self.stop),)
            )
            self.thread.start()
            self.ready.wait(5)
            return received

        def __exit__(self, *_):
            threading.Event().wait(0.2)  # let the last events arrive
            self.stop.set()
            self.thread.join(5)

    return Watcher()


def test_events_tell_watchers_after_commit_and_never_after_rollback(engine):
    with Session(engine) as db:
        owner = person(db, "owner")
        shown = image(db, owner, "shown")
        db.commit()
        with watch(image_topic(shown.id)) as received:
            comments.add_comment(db, viewer=owner, image_id=shown.id, body="rolled back")
            db.rollback()
            added = comments.add_comment(db, viewer=owner, image_id=shown.id, body="kept")
            threading.Event().wait(0.2)
            assert received == []  # not before the commit
            db.commit()
            comments.delete_comment(db, viewer=owner, comment_id=added.id)
            db.commit()
    assert [(e.kind, e.data) for e in received] == [
        (comments.ADDED, {"comment_id": added.id}),
        (comments.DELETED, {"comment_id": added.id}),
    ]


def test_redis_events_reach_a_subscriber_in_another_process_or_thread():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        missing_component(f"Redis is not answering at {REDIS_URL}: {error}")
    events = RedisEvents(REDIS_URL)

    async def scenario() -> list[Event]:
        async with events.subscribe("image:abc") as subscription:
            # Published from another thread, as a service in a worker thread does.
            await asyncio.to_thread(events.publish, Event("image:other", "comment_added", {}))
            await asyncio.to_thread(
                events.publish, Event("image:abc", "comment_added", {"comment_id": 7})
            )
            first = await subscription.next(timeout=5)
            quiet = await subscription.next(timeout=0.3)
            return [first, quiet]

    first, quiet = asyncio.run(scenario())
    assert first == Event("image:abc", "comment_added", {"comment_id": 7})
    assert quiet is None  # nothing from the other topic


def test_short_links_follow_visibility_and_a_new_code_retires_the_old(engine):
    with Session(engine) as db:
        owner, other = person(db, "owner"), person(db, "other")
        public = image(db, owner, "public")
        unlisted = image(db, owner, "unlisted", visibility=Visibility.UNLISTED)
        private = image(db, owner, "private", visibility=Visibility.PRIVATE)
        db.commit()
        for shown in (public, unlisted):
            assert sharing.image_for_code(db, viewer=ANONYMOUS, code=shown.share_code) == shown
        for viewer in (ANONYMOUS, other):
            with pytest.raises(NotFound):
                sharing.image_for_code(db, viewer=viewer, code=private.share_code)
        assert sharing.image_for_code(db, viewer=owner, code=private.share_code) == private
        for nonsense in ("", "short", "toolongcode", "abc/defg", "ABCD EFG"):
            with pytest.raises(NotFound):
                sharing.image_for_code(db, viewer=owner, code=nonsense)

        old = public.share_code
        with pytest.raises(NotAllowed):
            sharing.regenerate_code(db, viewer=other, image_id=public.id)
        with pytest.raises(NotFound):
            sharing.regenerate_code(db, viewer=other, image_id=private.id)
        new = sharing.regenerate_code(db, viewer=owner, image_id=public.id)
        db.commit()
        assert new != old and is_share_code(new)
        assert sharing.image_for_code(db, viewer=ANONYMOUS, code=new).id == public.id
        with pytest.raises(NotFound):
            sharing.image_for_code(db, viewer=ANONYMOUS, code=old)
