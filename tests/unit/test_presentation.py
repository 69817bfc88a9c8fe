"""Small rules of presentation: relative times, the rendition that stands in for a
missing one, and which visitors are link-preview crawlers."""

from datetime import UTC, datetime, timedelta

import pytest

from imageshare.images.kinds import RenditionName
from imageshare.images.models import Rendition
from imageshare.images.service import best_rendition
from imageshare.sharing.routes import is_crawler
from imageshare.ui import format

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=3, minutes=20), "3 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=15), "2 weeks ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_relative_times_read_naturally(delta, text):
    assert format.ago(NOW - delta, NOW) == text


def test_exact_time_names_its_zone():
    assert format.exact(NOW) == "22 November 2026, 15:00 UTC"


def rendition(name: RenditionName, width: int) -> Rendition:
    return Rendition(name=name, key=f"renditions/x/{name}.webp", width=width, height=width,
                     byte_size=1)  # fmt: skip


def test_a_small_source_offers_its_largest_rendition_in_place_of_a_missing_one():
    thumb, medium = rendition(RenditionName.THUMB, 300), rendition(RenditionName.MEDIUM, 800)
    renditions = {RenditionName.THUMB: thumb, RenditionName.MEDIUM: medium}
    assert best_rendition(renditions, RenditionName.LARGE) is medium
    assert best_rendition(renditions, RenditionName.MEDIUM) is medium
    assert best_rendition({RenditionName.THUMB: thumb}, RenditionName.LARGE) is thumb
    assert best_rendition({}, RenditionName.LARGE) is None


@pytest.mark.parametrize(
    "agent",
    [
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
    ],
)
def test_link_preview_crawlers_are_recognised(agent):
    assert is_crawler(agent)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
        "",
        None,
    ],
)
def test_people_are_not_crawlers(agent):
    assert not is_crawler(agent)
