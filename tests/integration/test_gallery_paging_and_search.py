"""More of the gallery and profile lists, on SQLite and Postgres (test_listing.py has the
basics): keyset pages that stay right when images share a timestamp, when someone
uploads while you browse and when filters or search narrow the list; exact filters;
search across fields and scripts; profile pages; the search index on a real-sized table."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from imageshare.auth.viewer import ANONYMOUS
from imageshare.errors import InvalidInput, NotFound
from imageshare.images import listing
from imageshare.images.kinds import Status, Visibility
from imageshare.images.listing import Filters
from imageshare.images.models import Image
from imageshare.users import service as users
from tests.harness.rows import START, image, person

pytestmark = pytest.mark.integration


def titles(page) -> list[str]:
    return [item.image.title for item in page.items]


def walk_forward(fetch, *, limit: int) -> list:
    """Every page from the first, following `older`, as a person clicking "Older" does."""
    pages, cursor = [], None
    while True:
        page = fetch(after=cursor, limit=limit)
        pages.append(page)
        if page.after is None:
            return pages
        assert len(pages) < 50, "the pages never end"
        cursor = page.after


def walk_back(fetch, last, *, limit: int) -> list:
    """From the last page back to the first, following `newer`."""
    pages = [last]
    while pages[0].before is not None:
        pages.insert(0, fetch(before=pages[0].before, limit=limit))
        assert len(pages) < 50, "the pages never end"
    return pages


def newest_first(rows: list[Image]) -> list[str]:
    return [row.title for row in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]


def test_images_sharing_one_timestamp_are_each_shown_once_both_ways(engine):
    """A batch upload can give several images the same created_at; the id breaks ties,
    so no page repeats or skips one of them."""
    with Session(engine) as db:
        ada = person(db, "ada")
        rows = [image(db, ada, f"t{n:02d}") for n in range(23)]
        same = START + timedelta(days=1)
        for row in rows[5:20]:  # fifteen in the middle share one instant
            row.created_at = same
            db.add(row)
        db.commit()
        expected = newest_first(rows)

        def fetch(**kw):
            return listing.gallery(db, viewer=ANONYMOUS, **kw)

        forward = walk_forward(fetch, limit=4)
        assert [t for page in forward for t in titles(page)] == expected
        assert [len(page.items) for page in forward] == [4, 4, 4, 4, 4, 3]
        back = walk_back(fetch, forward[-1], limit=4)
        assert [titles(p) for p in back] == [titles(p) for p in forward]
        assert forward[0].before is None and back[0].before is None


def test_sixty_images_in_pages_of_24_forward_and_back(engine):
    with Session(engine) as db:
        ada = person(db, "ada")
        rows = [image(db, ada, f"p{n:02d}") for n in range(60)]
        db.commit()

        def fetch(**kw):
            return listing.gallery(db, viewer=ANONYMOUS, **kw)

        forward = walk_forward(fetch, limit=24)
        seen = [t for page in forward for t in titles(page)]
        assert seen == newest_first(rows) and len(set(seen)) == 60
        assert [len(p.items) for p in forward] == [24, 24, 12]
        assert forward[0].before is None and forward[-1].after is None
        assert all(p.before and p.after for p in forward[1:-1])

        back = walk_back(fetch, forward[-1], limit=24)
        assert [titles(p) for p in back] == [titles(p) for p in forward]
        # The first page reached by going back is the first page: nothing newer.
        assert back[0].before is None and back[0].after == forward[0].after


def test_an_upload_while_someone_browses_neither_repeats_nor_skips(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        rows = [image(db, ada, f"p{n:02d}") for n in range(30)]
        db.commit()
        first = listing.gallery(db, viewer=ANONYMOUS, limit=10)
        image(db, bo, "brand new")  # newer than everything shown
        db.commit()
        second = listing.gallery(db, viewer=ANONYMOUS, after=first.after, limit=10)
        assert titles(second) == newest_first(rows)[10:20]  # not shifted by the upload

        # Back from the second page: the same ten as before, and now a newer page exists.
        again = listing.gallery(db, viewer=ANONYMOUS, before=second.before, limit=10)
        assert titles(again) == titles(first)
        assert again.before is not None
        top = listing.gallery(db, viewer=ANONYMOUS, before=again.before, limit=10)
        assert titles(top) == ["brand new"] and top.before is None


def test_pages_of_a_filtered_or_searched_gallery_stay_within_the_filter(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        wanted = []
        for n in range(40):
            if n % 3 == 0:
                wanted.append(image(db, ada, f"Harbour {n}", tags=("sea",), location="Porto"))
            else:
                image(db, bo, f"Field {n}", tags=("land",), location="Porto")
        db.commit()
        expected = newest_first(wanted)  # 14 images

        for filters in (
            Filters.clean(tag="sea"),
            Filters.clean(search="harbour"),
            Filters.clean(uploader="ada", location="porto"),
        ):

            def fetch(filters=filters, **kw):
                return listing.gallery(db, viewer=ANONYMOUS, filters=filters, **kw)

            forward = walk_forward(fetch, limit=5)
            assert [t for p in forward for t in titles(p)] == expected, filters
            assert [len(p.items) for p in forward] == [5, 5, 4]
            back = walk_back(fetch, forward[-1], limit=5)
            assert [titles(p) for p in back] == [titles(p) for p in forward], filters


def test_odd_page_requests_are_refused_or_bounded(engine):
    with Session(engine) as db:
        ada = person(db, "ada")
        for n in range(3):
            image(db, ada, f"p{n}")
        db.commit()
        page = listing.gallery(db, viewer=ANONYMOUS, limit=2)
        with pytest.raises(InvalidInput):
            listing.gallery(db, viewer=ANONYMOUS, after=page.after, before=page.after)
        # A page size out of range is refused, as the API refuses it.
        for wrong in (0, -5, 101):
            with pytest.raises(InvalidInput, match="between 1 and 100"):
                listing.gallery(db, viewer=ANONYMOUS, limit=wrong)
        # A cursor of the right shape for an image that never existed still pages by time.
        late = listing.image_cursor(Image(id=uuid.uuid4(), created_at=START + timedelta(days=3650)))
        assert titles(listing.gallery(db, viewer=ANONYMOUS, after=late)) == ["p2", "p1", "p0"]
        # The same broken cursor is refused in either direction and on a profile too.
        owner = users.by_username(db, username="ada")
        for call in (
            lambda: listing.gallery(db, viewer=ANONYMOUS, before="%%%"),
            lambda: listing.of_owner(db, viewer=ada, owner=owner, after="not a cursor"),
            lambda: listing.of_owner(db, viewer=ANONYMOUS, owner=owner, before="eA"),
        ):
            with pytest.raises(InvalidInput, match="page link is not valid"):
                call()


def test_tag_location_and_uploader_filters_are_exact_and_ignore_case(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        image(db, ada, "harbour", tags=("sea",), location="Lisbon, Portugal")
        image(db, ada, "dunes", tags=("seaside",), location="Lisbon")
        image(db, bo, "square", tags=("city", "sea"), location="Évora")
        image(db, bo, "hidden", tags=("sea",), location="Lisbon", visibility=Visibility.PRIVATE)
        db.commit()

        def shown(**filters) -> list[str]:
            page = listing.gallery(db, viewer=ada, filters=Filters.clean(**filters))
            return sorted(titles(page))

        assert shown(tag="sea") == ["harbour", "square"]  # not "seaside", not private
        assert shown(tag=" #SEA ") == ["harbour", "square"]
        assert shown(tag="sea side") == []
        assert shown(location="Lisbon") == ["dunes"]  # the whole name, not a part of it
        assert shown(location="  lisbon,   portugal ") == ["harbour"]
        assert shown(uploader=" Ada ") == ["dunes", "harbour"]
        assert shown(uploader="ad") == []
        assert shown(tag="sea", uploader="bo", location="évora") == ["square"]
        # The location exactly as the image page shows it, and in capitals.
        assert shown(location="Évora") == ["square"]
        assert shown(location="ÉVORA") == ["square"]


def test_search_reads_title_description_and_location_and_needs_every_word(engine):
    with Session(engine) as db:
        ada = person(db, "ada")
        image(db, ada, "Old lighthouse", description="Stormy night at the cape.", location="Sagres")
        image(db, ada, "Café terrace", description="Morning coffee.", location="Évora")
        image(db, ada, "snake_case title", description="", location="")
        image(db, ada, "Quiet lighthouse", visibility=Visibility.UNLISTED)
        image(db, ada, "Private lighthouse", visibility=Visibility.PRIVATE)
        image(db, ada, "Processing lighthouse", status=Status.PROCESSING)
        image(db, ada, "Failed lighthouse", status=Status.FAILED)
        image(db, ada, "Deleted lighthouse", status=Status.DELETING)
        db.commit()

        def found(text: str) -> list[str]:
            page = listing.gallery(db, viewer=ada, filters=Filters.clean(search=text))
            return sorted(titles(page))

        everything = found("")
        assert everything == ["Café terrace", "Old lighthouse", "snake_case title"]
        assert found("LIGHTHOUSE") == ["Old lighthouse"]  # only public and ready ones
        assert found("stormy") == ["Old lighthouse"]  # description
        assert found("sagres") == ["Old lighthouse"]  # location
        assert found("lighthouse sagres night") == ["Old lighthouse"]  # words in all three
        assert found("lighthouse coffee") == []  # every word is needed
        assert found("  cape,   stormy!  ") == ["Old lighthouse"]
        assert found("café") == ["Café terrace"]
        assert found("CAFÉ") == ["Café terrace"]  # capitals beyond ASCII
        assert found("évora") == ["Café terrace"]
        assert found("snake") == ["snake_case title"]
        for punctuation in ("!!!", "... ---", "“ ” «»", "_", "_ - _"):
            assert found(punctuation) == everything, f"{punctuation!r} filtered the gallery"
        if engine.dialect.name == "postgresql":
            assert found("light") == ["Old lighthouse"]  # a prefix of a word
            assert found("house") == []  # but not the middle of one
        else:
            assert found("house") == ["Old lighthouse"]  # SQLite: any part of a word


def test_a_profile_is_everything_but_deleting_for_its_owner_in_pages(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        kinds = {
            "public": {},
            "unlisted": {"visibility": Visibility.UNLISTED},
            "private": {"visibility": Visibility.PRIVATE},
            "processing": {"status": Status.PROCESSING},
            "failed": {"status": Status.FAILED},
            "deleting": {"status": Status.DELETING},
        }
        rows = [image(db, ada, f"{kind} {n}", **kinds[kind]) for n in range(4) for kind in kinds]
        image(db, bo, "bo's")
        db.commit()
        owner = users.by_username(db, username="Ada")
        own = newest_first([r for r in rows if r.status != Status.DELETING])
        public = newest_first([r for r in rows if r.title.startswith("public")])

        for viewer, expected in ((ada, own), (bo, public), (ANONYMOUS, public)):

            def fetch(viewer=viewer, **kw):
                return listing.of_owner(db, viewer=viewer, owner=owner, **kw)

            forward = walk_forward(fetch, limit=7)
            assert [t for p in forward for t in titles(p)] == expected
            back = walk_back(fetch, forward[-1], limit=7)
            assert [titles(p) for p in back] == [titles(p) for p in forward]
            assert listing.count_of_owner(db, viewer=viewer, owner=owner) == len(expected)
        assert len(own) == 20 and len(public) == 4

        with pytest.raises(NotFound):
            users.by_username(db, username="nobody")
        empty = users.by_username(db, username="bo")
        assert titles(listing.of_owner(db, viewer=ada, owner=empty)) == ["bo's"]


@contextlib.contextmanager
def captured(engine):
    """The statements (with their parameters) the block sends."""
    sent: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_):
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)


def test_postgres_search_of_a_large_gallery_goes_through_its_index(engine):
    """With 20,000 images, the gallery's real query for rare words is answered from
    ix_image_search rather than by reading every image.

    (A single word that few or no images have is still answered by walking the gallery
    index and filtering on the stored vector: ~30 ms at 100,000 images, linear.)"""
    if engine.dialect.name != "postgresql":
        return  # SQLite scans: it has no full-text index
    with engine.begin() as connection:
        definition = connection.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_image_search'")
        ).scalar_one()
    assert "USING gin (search_vector)" in definition
    with Session(engine) as db:
        ada = person(db, "ada")
        image(db, ada, "Aurora over the fjord", location="Tromsø")
        db.commit()
        owner_id = ada.user_id
        db.exec(
            sa.text(
                """
                INSERT INTO image (id, owner_id, title, description, location, visibility,
                    status, share_code, original_key, content_type, byte_size, sha256,
                    has_location, placeholder, created_at, updated_at)
                SELECT gen_random_uuid(), :owner, 'Street ' || n, 'ordinary day ' || n, 'Town',
                    'public', 'ready', lpad(to_hex(n), 8, '0'), 'originals/x' || n,
                    'image/jpeg', 1, md5(n::text), false, '',
                    now() - n * interval '1 second', now()
                FROM generate_series(1, 20000) AS n
                """
            ),
            params={"owner": owner_id},
        )
        db.commit()
        db.exec(sa.text("ANALYZE image"))
        with captured(engine) as sent:
            page = listing.gallery(
                db, viewer=ANONYMOUS, filters=Filters.clean(search="fjord aurora")
            )
        assert titles(page) == ["Aurora over the fjord"]
        statement, parameters = next((s, p) for s, p in sent if "@@" in s)
        raw = db.connection().connection.dbapi_connection
        with raw.cursor() as cursor:
            # At this size reading the whole table is as cheap; we want to know that the
            # query's expression can use the index at all.
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN ANALYZE " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_image_search" in plan, f"rare words were looked for row by row:\n{plan}"
