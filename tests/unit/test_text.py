from imageshare import text
from imageshare.comments.service import clean_body
from imageshare.images.listing import Filters
from imageshare.images.service import ImageDetails


def test_one_line_drops_controls_and_folds_whitespace():
    assert text.one_line("  Har\x00bour\x1b[31m \t at\n dawn ") == "Harbour[31m at dawn"
    assert text.one_line(None) == ""
    assert text.one_line("half \ud800 a pair") == "half a pair"  # a lone surrogate


def test_paragraphs_keep_line_breaks_and_drop_controls():
    assert text.paragraphs(" first\r\nsecond\x00\n\n\tthird\x7f ") == "first\nsecond\n\n\tthird"


def test_services_never_pass_nul_on_to_the_database():
    # Postgres refuses NUL in text: what a person typed must arrive without it.
    details = ImageDetails.clean(
        title="Sun\x00set", description="Warm\x00", location="Li\x00sbon", tags=["s\x00ea"]
    )
    assert (details.title, details.description, details.location, details.tags) == (
        "Sunset", "Warm", "Lisbon", ("sea",),
    )  # fmt: skip
    assert clean_body("nice\x00 one") == "nice one"
    assert Filters.clean(tag="\x00sea", uploader="al\x00ice", search="\x00") == Filters(
        tag="sea", uploader="alice"
    )
