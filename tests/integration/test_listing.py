"""The gallery and profile lists on SQLite and Postgres: who sees what, keyset pages in
both directions, filters and search, and the number of SQL statements a page costs."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from imageshare.auth.viewer import ANONYMOUS
from imageshare.comments import service as comments
from imageshare.errors import InvalidInput
from imageshare.images import detail, listing
from imageshare.images.kinds import Status, Visibility
from imageshare.images.listing import Filters
from tests.harness.rows import image, person


def titles(page) -> list[str]:
    return [item.image.title for item in page.items]


def test_the_gallery_lists_public_ready_images_newest_first(engine):
    with Session(engine) as db:
        ada = person(db, "ada")
        image(db, ada, "old")
        image(db, ada, "unlisted", visibility=Visibility.UNLISTED)
        image(db, ada, "private", visibility=Visibility.PRIVATE)
        image(db, ada, "processing", status=Status.PROCESSING)
        image(db, ada, "failed", status=Status.FAILED)
        image(db, ada, "deleting", status=Status.DELETING)
        image(db, ada, "new")
        db.commit()
        page = listing.gallery(db, viewer=ada)
    assert titles(page) == ["new", "old"]
    assert page.items[0].owner.username == "ada"
    assert set(page.items[0].renditions) == {"thumb", "medium", "large"}
    assert page.newer is None and page.older is None


def test_pages_forward_and_back_visit_every_image_once(engine):
    with Session(engine) as db:
        ada = person(db, "ada")
        for n in range(60):
            image(db, ada, f"p{n:02d}")
        db.commit()
        expected = [f"p{n:02d}" for n in range(59, -1, -1)]

        forward, cursor = [], None
        pages = []
        while True:
            page = listing.gallery(db, viewer=ANONYMOUS, after=cursor, limit=24)
            pages.append(page)
            forward += titles(page)
            if page.older is None:
                break
            cursor = page.older
        assert forward == expected
        assert [len(p.items) for p in pages] == [24, 24, 12]
        assert pages[0].newer is None and pages[1].newer and pages[2].newer

        back = listing.gallery(db, viewer=ANONYMOUS, before=pages[2].newer, limit=24)
        assert titles(back) == titles(pages[1])
        first = listing.gallery(db, viewer=ANONYMOUS, before=back.newer, limit=24)
        assert titles(first) == titles(pages[0]) and first.newer is None


@pytest.mark.parametrize("cursor", ["nonsense", "bm9wZQ", "MjAyNi0wMS0wMXxub3QtYS11dWlk"])
def test_a_broken_cursor_is_a_clear_refusal(engine, cursor):
    with Session(engine) as db, pytest.raises(InvalidInput, match="page link is not valid"):
        listing.gallery(db, viewer=ANONYMOUS, after=cursor)


def test_filters_narrow_the_gallery_and_combine(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        image(db, ada, "Harbour at dawn", tags=("sea", "morning"), location="Lisbon, Portugal",
              description="Fishing boats come home.")  # fmt: skip
        image(db, bo, "Mountain hut", tags=("alps",), location="Zermatt",
              description="Snow on the roof; 50% chance of more!")  # fmt: skip
        image(db, bo, "Sea stacks", tags=("sea",), location="Lisbon, portugal")
        image(db, bo, "Hidden sea", tags=("sea",), visibility=Visibility.UNLISTED)
        db.commit()

        def shown(**filters) -> list[str]:
            return sorted(titles(listing.gallery(db, viewer=ANONYMOUS,
                                                 filters=Filters.clean(**filters))))  # fmt: skip

        assert shown(tag="Sea") == ["Harbour at dawn", "Sea stacks"]
        assert shown(tag="#sea", uploader="BO") == ["Sea stacks"]
        assert shown(location="lisbon,  PORTUGAL") == ["Harbour at dawn", "Sea stacks"]
        assert shown(uploader="nobody") == []
        assert shown(search="boats") == ["Harbour at dawn"]  # description
        assert shown(search="zermatt") == ["Mountain hut"]  # location
        assert shown(search="harbour dawn") == ["Harbour at dawn"]  # every word
        assert shown(search="harbour hut") == []
        assert shown(search="hidden") == []  # unlisted stays out of search
        assert shown(search="50%") == ["Mountain hut"]  # punctuation is not syntax
        assert shown(search="!!! ???") == shown()  # nothing to search for: no filter
        if engine.dialect.name == "postgresql":
            assert shown(search="mount") == ["Mountain hut"]  # prefixes match


def test_postgres_search_uses_its_index(engine):
    if engine.dialect.name != "postgresql":
        return  # SQLite has no full-text index to use
    with Session(engine) as db:
        ada = person(db, "ada")
        for n in range(50):
            image(db, ada, f"Picture {n}", description="ordinary")
        db.commit()
        db.exec(sa.text("SET enable_seqscan = off"))
        query = sa.select(listing.Image.id).where(
            listing.search.matches(listing.Image.__table__, ["picture"], "postgresql")
        )
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        plan = "\n".join(row[0] for row in db.exec(sa.text("EXPLAIN " + sql)).all())
    assert "ix_image_search" in plan


def test_a_profile_shows_its_owner_everything_and_others_the_public_ready(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        image(db, ada, "public")
        image(db, ada, "unlisted", visibility=Visibility.UNLISTED)
        image(db, ada, "private", visibility=Visibility.PRIVATE)
        image(db, ada, "processing", status=Status.PROCESSING)
        image(db, ada, "deleting", status=Status.DELETING)
        image(db, bo, "not hers")
        db.commit()
        owner = listing.owner_by_username(db, username="ADA ")
        mine = listing.of_owner(db, viewer=ada, owner=owner)
        theirs = listing.of_owner(db, viewer=bo, owner=owner)
        assert titles(mine) == ["processing", "private", "unlisted", "public"]
        assert titles(theirs) == titles(listing.of_owner(db, viewer=ANONYMOUS, owner=owner))
        assert titles(theirs) == ["public"]
        assert listing.count_of_owner(db, viewer=ada, owner=owner) == 4
        assert listing.count_of_owner(db, viewer=bo, owner=owner) == 1


@contextlib.contextmanager
def counted(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_page_costs_the_same_statements_whatever_it_shows(engine):
    """No N+1: the SQL behind a gallery page, a profile page and an image page does not
    grow with the images or comments shown."""
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        few = [image(db, ada, f"few {n}", tags=("t",)).id for n in range(3)]
        db.commit()

    def gallery_page() -> int:
        with Session(engine) as db, counted(engine) as statements:
            listing.gallery(db, viewer=ANONYMOUS)
        return len(statements)

    def profile_page() -> int:
        with Session(engine) as db, counted(engine) as statements:
            owner = listing.owner_by_username(db, username="ada")
            listing.of_owner(db, viewer=bo, owner=owner)
            listing.count_of_owner(db, viewer=bo, owner=owner)
        return len(statements)

    def image_page(image_id) -> int:
        with Session(engine) as db, counted(engine) as statements:
            detail.get_detail(db, viewer=bo, image_id=image_id)
            comments.list_comments(db, viewer=bo, image_id=image_id)
        return len(statements)

    small = (gallery_page(), profile_page(), image_page(few[0]))
    with Session(engine) as db:
        for n in range(30):
            image(db, ada, f"many {n}", tags=("t", "u"))
        busy = image(db, ada, "busy").id
        authors = [person(db, f"author{n}") for n in range(10)]
        db.commit()
        for n in range(50):
            comments.add_comment(db, viewer=authors[n % 10], image_id=busy, body=f"c{n}")
        comments.add_comment(db, viewer=authors[0], image_id=few[0], body="just one")
        db.commit()
    large = (gallery_page(), profile_page(), image_page(busy))
    print("statements (gallery, profile, image page):", small, large)
    assert large == small, "statements grew with the rows shown (N+1)"
    assert large[0] <= 4, "a gallery page takes at most four statements"
    with Session(engine) as db:
        assert len(comments.list_comments(db, viewer=bo, image_id=busy).items) == 50
