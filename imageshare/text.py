"""Text as people type it: what the services do to a string before they store it or
look something up with it.

Control characters (NUL, escape sequences, …) and lone surrogates are never part of
what someone meant to write, and databases refuse them (Postgres any NUL, every driver
a surrogate), so they are dropped here rather than reaching the database as an error.
"""

from __future__ import annotations

import re

from imageshare.errors import InvalidInput

# C0 controls and DEL, except tab and newline (which multi-line text keeps), and lone
# UTF-16 surrogates, which JSON can carry but no database encoding can store.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def one_line(value: object) -> str:
    """A name, title or search: controls dropped, runs of whitespace made one space."""
    return " ".join(_CONTROL.sub("", str(value or "")).split())


def paragraphs(value: object) -> str:
    """A description or comment: line breaks kept, controls dropped, ends trimmed."""
    return _CONTROL.sub("", str(value or "").replace("\r\n", "\n")).strip()


def at_most(value: str, limit: int, what: str) -> str:
    """`value`, or InvalidInput when it is longer than `limit` characters: every length
    limit is refused in the same words ("The title can be at most 200 characters; this
    one has 201.")."""
    if len(value) > limit:
        raise InvalidInput(
            f"{what} can be at most {limit:,} characters; this one has {len(value):,}."
        )
    return value
