"""The SQL a page costs does not grow with what it shows (no N+1), on SQLite and
Postgres: counted with a before_cursor_execute listener on the engine, for each kind
of page, its filters and its later pages."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.comments import service as comments
from imageshare.images import detail, listing
from imageshare.images.kinds import Status, Visibility
from imageshare.images.listing import Filters
from imageshare.users import service as users
from tests.harness.rows import image, person

pytestmark = pytest.mark.integration


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


def cost(engine, page: Callable[[Session], object]) -> int:
    """Statements one page load sends, in a fresh session as a request has."""
    with Session(engine) as db, counted(engine) as statements:
        page(db)
    return len(statements)


def add_images(engine, owner: Viewer, count: int, prefix: str) -> None:
    """`count` public, ready, tagged images, with some hidden ones between them."""
    with Session(engine) as db:
        for n in range(count):
            image(
                db,
                owner,
                f"{prefix} harbour {n}",
                tags=("sea", f"t{n}"),
                location="Porto",
                description=f"boats {n}",
            )
            image(db, owner, f"{prefix} hidden {n}", visibility=Visibility.PRIVATE)
            image(db, owner, f"{prefix} working {n}", status=Status.PROCESSING)
        db.commit()


GALLERY_FILTERS = {
    "none": Filters(),
    "tag": Filters.clean(tag="sea"),
    "location": Filters.clean(location="porto"),
    "uploader": Filters.clean(uploader="ada"),
    "search": Filters.clean(search="harbour boats"),
    "all": Filters.clean(tag="sea", location="Porto", uploader="ada", search="harbour"),
}


def gallery_costs(engine, viewer: Viewer) -> dict[str, tuple[int, int, int]]:
    """For each filter: the first page, the next one and the one back (24 per page)."""
    costs = {}
    for name, filters in GALLERY_FILTERS.items():
        with Session(engine) as db:
            first = listing.gallery(db, viewer=viewer, filters=filters)
            assert len(first.items) >= 3, name
            # Cursors inside the first page, so the pages they lead to are never empty.
            top = listing.image_cursor(first.items[0].image)
            bottom = listing.image_cursor(first.items[-1].image)

        def load(db, filters=filters, **cursor):
            page = listing.gallery(db, viewer=viewer, filters=filters, **cursor)
            assert page.items

        costs[name] = (
            cost(engine, load),
            cost(engine, lambda db, f=filters, c=top: load(db, f, after=c)),
            cost(engine, lambda db, f=filters, c=bottom: load(db, f, before=c)),
        )
    return costs


def test_a_gallery_page_costs_the_same_for_3_or_24_images_whatever_the_filter(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        db.commit()
    add_images(engine, ada, 3, "few")
    small = {who: gallery_costs(engine, who) for who in (ANONYMOUS, bo)}
    add_images(engine, ada, 60, "many")  # pages are now full: 24 cards, 72 renditions
    with Session(engine) as db:
        assert len(listing.gallery(db, viewer=bo).items) == 24
    large = {who: gallery_costs(engine, who) for who in (ANONYMOUS, bo)}
    print("gallery statements (first, next, back):", large)
    assert large == small, "the gallery's statements grew with the images shown (N+1)"
    for costs in large.values():
        for name, counts in costs.items():
            assert max(counts) <= 4, f"a gallery page filtered by {name} takes {counts}"


def profile_cost(engine, username: str, viewer: Viewer) -> tuple[int, int]:
    def load(db, after=None):
        owner = users.by_username(db, username=username)
        page = listing.of_owner(db, viewer=viewer, owner=owner, after=after)
        listing.count_of_owner(db, viewer=viewer, owner=owner)
        return page

    with Session(engine) as db:
        older = load(db).after
    return cost(engine, load), cost(engine, lambda db: load(db, after=older))


def test_a_profile_page_costs_the_same_for_one_image_or_a_full_page(engine):
    with Session(engine) as db:
        ada, bo = person(db, "ada"), person(db, "bo")
        db.commit()
    add_images(engine, ada, 1, "first")
    viewers = {"owner": ada, "someone": bo, "anonymous": ANONYMOUS}
    # Page two of a one-image profile is empty: compare first pages there.
    small = {name: profile_cost(engine, "ada", who)[0] for name, who in viewers.items()}
    add_images(engine, ada, 40, "more")  # the owner sees 123 images, others 41
    large = {name: profile_cost(engine, "ada", who) for name, who in viewers.items()}
    print("profile statements (first page, second page):", large)
    for name in viewers:
        first, second = large[name]
        assert first == small[name], f"{name}: the profile's statements grew with its images"
        assert second == first, f"{name}: a later profile page costs more than the first"


def image_page_cost(engine, viewer: Viewer, image_id) -> int:
    def load(db):
        shown = detail.get_detail(db, viewer=viewer, image_id=image_id)
        page = comments.list_comments(db, viewer=viewer, image_id=image_id)
        count = comments.count_comments(db, viewer=viewer, image_id=image_id)
        assert shown.image.id == image_id and count >= len(page.items)
        for comment in page.items:  # what the page shows of each
            assert comment.author.display_name

    return cost(engine, load)


def test_an_image_page_costs_the_same_for_5_or_50_comments_by_many_authors(engine):
    with Session(engine) as db:
        owner = person(db, "owner")
        authors = [person(db, f"author{n}") for n in range(10)]
        quiet = image(db, owner, "quiet", tags=("a", "b")).id
        busy = image(db, owner, "busy", tags=("a", "b")).id
        db.commit()
        for n in range(5):
            comments.add_comment(db, viewer=authors[n], image_id=quiet, body=f"q{n}")
        for n in range(120):
            comments.add_comment(db, viewer=authors[n % 10], image_id=busy, body=f"b{n}")
        db.commit()

    for viewer in (owner, authors[3], ANONYMOUS):
        few = image_page_cost(engine, viewer, quiet)
        many = image_page_cost(engine, viewer, busy)
        assert few == many, f"5 comments cost {few} statements, 50 cost {many} (N+1)"

    # The next comments (51–100, by ten authors) cost no more than the first.
    with Session(engine) as db:
        after = comments.list_comments(db, viewer=ANONYMOUS, image_id=busy).after

    def next_page(db):
        page = comments.list_comments(db, viewer=ANONYMOUS, image_id=busy, after=after)
        assert len(page.items) == 50 and page.after is not None

    def first_page(db):
        comments.list_comments(db, viewer=ANONYMOUS, image_id=busy)

    assert cost(engine, next_page) <= cost(engine, first_page) + 1  # the anchor look-up
