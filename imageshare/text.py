"""Text as people type it: what the services do to a string before they store it or
look something up with it.

Control characters (NUL, escape sequences, …) are never part of what someone meant to
write, and Postgres refuses NUL in text outright, so they are dropped here rather than
reaching the database as an error.
"""

from __future__ import annotations

import re

# C0 controls and DEL, except tab and newline (which multi-line text keeps).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(value: object) -> str:
    """A name, title or search: controls dropped, runs of whitespace made one space."""
    return " ".join(_CONTROL.sub("", str(value or "")).split())


def paragraphs(value: object) -> str:
    """A description or comment: line breaks kept, controls dropped, ends trimmed."""
    return _CONTROL.sub("", str(value or "").replace("\r\n", "\n")).strip()
