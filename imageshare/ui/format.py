"""How times, camera settings and limits read on the pages."""

from __future__ import annotations

from datetime import datetime

from imageshare.db import utcnow
from imageshare.images.service import MAX_TAG_LENGTH, MAX_TAGS

# The tags fields' hint: the service's limits, as it checks them.
TAGS_HINT = f"Up to {MAX_TAGS} tags, separated by commas, of {MAX_TAG_LENGTH} characters at most"

_UNITS = (
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def ago(when: datetime, now: datetime | None = None) -> str:
    """ "3 hours ago", "just now", "2 days ago"."""
    seconds = int(((now or utcnow()) - when).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # unreachable: the loop ends at one minute


def exact(when: datetime) -> str:
    """The exact moment, in UTC (the server cannot know the reader's time zone)."""
    return when.strftime("%-d %B %Y, %H:%M UTC")


def expiry(when: datetime | None, now: datetime | None = None) -> str:
    """ "Expires 12 March 2027", "Expired 1 March 2027", "Never expires"."""
    if when is None:
        return "Never expires"
    verb = "Expired" if when <= (now or utcnow()) else "Expires"
    return f"{verb} {when.strftime('%-d %B %Y')}"


def day(when: datetime) -> str:
    return when.strftime("%B %Y")


def initials(name: str) -> str:
    """What an avatar shows without a picture: "Ada Lovelace" → "AL"."""
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def megapixels(width: int | None, height: int | None) -> str:
    if not width or not height:
        return ""
    return f"{width:,} × {height:,} px ({width * height / 1e6:.1f} MP)"


def aperture(value: float | None) -> str:
    return f"ƒ/{value:g}" if value else ""


def focal_length(value: float | None) -> str:
    return f"{value:g} mm" if value else ""


def exposure(value: str | None) -> str:
    return f"{value} s" if value else ""
