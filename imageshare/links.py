"""The addresses of the app's own pages, built in one place for the pages, the API and
the short links alike (the routes themselves are registered in imageshare.py)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode


def image_href(image_id: uuid.UUID | str) -> str:
    return f"/i/{image_id}"


def profile_href(username: str) -> str:
    return f"/u/{username}"


def gallery_href(**filters: str) -> str:
    """The gallery narrowed to these filters (empty ones are left out)."""
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"/?{query}" if query else "/"
