"""What the pages hold in state: plain, serialisable views of the services' answers.

Media URLs are decided here through images.media.media_url, the one function that
knows public from private (bound to the app as MediaUrls); nothing else in the UI
builds one.
"""

from __future__ import annotations

import dataclasses

from imageshare.comments.service import CommentView
from imageshare.images.detail import ImageDetail
from imageshare.images.kinds import RenditionName, Status
from imageshare.images.listing import Listed
from imageshare.images.media import MediaUrls
from imageshare.images.models import Image, Rendition
from imageshare.images.service import best_rendition
from imageshare.links import gallery_href, image_href, profile_href
from imageshare.ui import format


@dataclasses.dataclass(frozen=True)
class Card:
    """One image in a grid."""

    id: str
    href: str
    title: str
    src: str
    srcset: str
    placeholder: str
    owner_username: str
    owner_name: str
    owner_gallery_href: str  # the gallery narrowed to the owner's images
    visibility: str
    status: str
    failure_reason: str


@dataclasses.dataclass(frozen=True)
class CommentItem:
    id: int
    body: str
    author_username: str
    author_href: str
    author_name: str
    author_avatar: str
    author_initials: str
    ago: str
    exact: str
    can_delete: bool


@dataclasses.dataclass(frozen=True)
class PictureUrls:
    """Where the image page's picture and downloads come from, for one viewer."""

    large: str
    medium: str
    original: str  # the owner's download of the file as uploaded; "" for anyone else


def picture_urls(found: ImageDetail, media: MediaUrls) -> PictureUrls:
    """Signed where needed: call it off the event loop (signing may fetch credentials)."""
    image = found.image
    return PictureUrls(
        large=rendition_url(image, best_rendition(found.renditions, RenditionName.LARGE), media),
        medium=rendition_url(image, best_rendition(found.renditions, RenditionName.MEDIUM), media),
        original=media.original(image) if found.viewer_is_owner else "",
    )


def rendition_url(image: Image, rendition: Rendition | None, media: MediaUrls) -> str:
    return media.url(image, rendition.key) if rendition is not None else ""


def srcset(
    image: Image, renditions: dict[RenditionName, Rendition], *names, media: MediaUrls
) -> str:
    """`url 300w, url 1024w` for the distinct renditions among `names`."""
    parts, widths = [], set()
    for name in names:
        rendition = renditions.get(name)
        if rendition is None or rendition.width in widths:
            continue
        widths.add(rendition.width)
        parts.append(f"{media.url(image, rendition.key)} {rendition.width}w")
    return ", ".join(parts)


def card(listed: Listed, media: MediaUrls) -> Card:
    image, renditions = listed.image, listed.renditions
    return Card(
        id=str(image.id),
        href=image_href(image.id),
        title=image.title,
        src=rendition_url(image, renditions.get(RenditionName.THUMB), media),
        srcset=srcset(image, renditions, RenditionName.THUMB, RenditionName.MEDIUM, media=media),
        placeholder=image.placeholder,
        owner_username=listed.owner.username,
        owner_name=listed.owner.display_name,
        owner_gallery_href=gallery_href(user=listed.owner.username),
        visibility=image.visibility.value,
        status=image.status.value,
        failure_reason=image.failure_reason or "" if image.status == Status.FAILED else "",
    )


def comment_item(comment: CommentView) -> CommentItem:
    return CommentItem(
        id=comment.id,
        body=comment.body,
        author_username=comment.author.username,
        author_href=profile_href(comment.author.username),
        author_name=comment.author.display_name,
        author_avatar=comment.author.avatar_url or "",
        author_initials=format.initials(comment.author.display_name),
        ago=format.ago(comment.created_at),
        exact=format.exact(comment.created_at),
        can_delete=comment.can_delete,
    )
