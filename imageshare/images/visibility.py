"""Who sees which image (DESIGN.md, "Visibility"), each rule in both of its forms.

A rule is needed in Python, to decide about one image already loaded, and in SQL, to
filter a list in the database. Both forms sit side by side here, and
tests/integration/test_visibility_rules.py runs each pair over the same rows, so the
two cannot drift apart.

| | lists (gallery, search, others' view of a profile) | by link or id | owner |
|---|---|---|---|
| public | listed | yes | yes |
| unlisted | not listed | yes | yes |
| private | not listed | as if it did not exist | yes |

An image being deleted is gone for everyone, its owner included; one still processing
(or failed) is listed nowhere but on its owner's profile.
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from imageshare.auth.viewer import Viewer
from imageshare.images.kinds import Status, Visibility
from imageshare.images.models import Image


def owns(viewer: Viewer, owner_id: int | None) -> bool:
    """The viewer is the person `owner_id` names: may edit and delete their images,
    sees their originals, places and failures, and manages their profile."""
    return viewer.user_id is not None and owner_id == viewer.user_id


def is_owner(viewer: Viewer, image: Image) -> bool:
    return owns(viewer, image.owner_id)


def is_listed(image: Image) -> bool:
    """Listed for everyone: public and ready."""
    return image.visibility == Visibility.PUBLIC and image.status == Status.READY


def listed() -> list[ColumnElement[bool]]:
    """SQL form of is_listed."""
    return [col(Image.visibility) == Visibility.PUBLIC, col(Image.status) == Status.READY]


def can_view(viewer: Viewer, image: Image) -> bool:
    """By link or id: the owner always; others unless it is private."""
    if image.status == Status.DELETING:
        return False
    return is_owner(viewer, image) or image.visibility != Visibility.PRIVATE


def viewable(viewer: Viewer) -> list[ColumnElement[bool]]:
    """SQL form of can_view."""
    shown = col(Image.visibility) != Visibility.PRIVATE
    if viewer.user_id is not None:
        shown = shown | (col(Image.owner_id) == viewer.user_id)
    return [col(Image.status) != Status.DELETING, shown]


def on_profile(viewer: Viewer, image: Image) -> bool:
    """On its owner's profile: every image to the owner (any status but deleting);
    listed ones to everyone else."""
    if is_owner(viewer, image):
        return image.status != Status.DELETING
    return is_listed(image)


def shown_on_profile(viewer: Viewer, owner_id: int) -> list[ColumnElement[bool]]:
    """SQL form of on_profile, for the profile of `owner_id`."""
    mine = [col(Image.owner_id) == owner_id]
    if owns(viewer, owner_id):
        return [*mine, col(Image.status) != Status.DELETING]
    return [*mine, *listed()]
