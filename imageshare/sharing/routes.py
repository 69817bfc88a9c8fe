"""GET /s/{code}: a short link. People are redirected to the image page; link-preview
crawlers get a small page of OpenGraph and Twitter card tags, because the Reflex pages
are rendered in the browser and crawlers would see none of an image's details.

Previews exist for public and unlisted images only. A private image's link is a 404
for everyone but its owner, and the 404 says nothing about the image.
"""

from __future__ import annotations

from html import escape

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from imageshare.auth import sessions
from imageshare.db import Sessions, run_in_session
from imageshare.errors import NotFound
from imageshare.images import detail as details
from imageshare.images.kinds import RenditionName, Visibility
from imageshare.images.media import MediaUrls
from imageshare.images.service import best_rendition
from imageshare.links import image_href
from imageshare.server_html import page
from imageshare.sharing import service as sharing

# Substrings of the User-Agent of the services that unfurl links.
CRAWLERS = (
    "twitterbot", "facebookexternalhit", "facebookcatalog", "meta-externalagent", "slackbot",
    "slack-imgproxy", "discordbot", "linkedinbot", "whatsapp", "telegrambot", "skypeuripreview",
    "pinterest", "redditbot", "embedly", "iframely", "mastodon", "bluesky", "applebot",
    "googlebot", "bingbot", "vkshare", "tumblr", "quora link preview", "outbrain", "nuzzel",
    "bitlybot", "flipboard", "snapchat", "viber", "line-poker", "kakaotalk-scrap", "signal",
)  # fmt: skip
DESCRIPTION_LENGTH = 200


def is_crawler(user_agent: str | None) -> bool:
    agent = (user_agent or "").lower()
    return any(name in agent for name in CRAWLERS)


async def follow_share_link(
    request: Request, *, db_sessions: Sessions, media: MediaUrls
) -> Response:
    """`db_sessions` for the look-up, `media` for the preview's picture (the app's)."""
    code = request.path_params["code"]
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    crawler = is_crawler(request.headers.get("user-agent"))

    def answer(db: Session) -> Response:
        # All in the worker thread: the preview signs a media URL, which may fetch
        # credentials, and that must not happen on the event loop.
        viewer = sessions.viewer_for_token(db, token=token)
        image = sharing.image_for_code(db, viewer=viewer, code=code)
        found = details.get_detail(db, viewer=viewer, image_id=image.id)
        image_path = image_href(image.id)
        if crawler and sharing.has_preview(image):
            return preview(found, image_path, media)
        return RedirectResponse(image_path, status_code=302, headers={"Cache-Control": "no-store"})

    try:
        return await run_in_session(db_sessions, answer)
    except NotFound:
        return link_not_found()


def preview(found: details.ImageDetail, image_path: str, media: MediaUrls) -> Response:
    settings = media.settings
    image, owner = found.image, found.owner
    page_url = f"{settings.public_url}{image_path}"
    description = " ".join(image.description.split())
    if len(description) > DESCRIPTION_LENGTH:
        description = description[: DESCRIPTION_LENGTH - 1].rstrip() + "…"
    description = description or f"A photo by {owner.display_name} on imageshare."
    tags = {
        "og:type": "article",
        "og:site_name": "imageshare",
        "og:title": image.title,
        "og:description": description,
        "og:url": sharing.share_url(settings.public_url, image.share_code),
        "twitter:title": image.title,
        "twitter:description": description,
    }
    large = best_rendition(found.renditions, RenditionName.LARGE)
    if large is not None:
        url = media.absolute(media.url(image, large.key))
        tags |= {
            "og:image": url,
            "og:image:type": "image/webp",
            "og:image:width": str(large.width),
            "og:image:height": str(large.height),
            "og:image:alt": image.title,
            "twitter:card": "summary_large_image",
            "twitter:image": url,
            "twitter:image:alt": image.title,
        }
    else:
        tags["twitter:card"] = "summary"
    head = "".join(
        f'\n<meta {"name" if name.startswith("twitter:") else "property"}="{name}" '
        f'content="{escape(value)}">'
        for name, value in tags.items()
    )
    head += f'\n<meta http-equiv="refresh" content="0; url={escape(image_path)}">'
    head += f'\n<link rel="canonical" href="{escape(page_url)}">'
    return page(
        image.title,
        f"<h1>{escape(image.title)}</h1><p>{escape(description)}</p>"
        f'<a class="button" href="{escape(image_path)}">Open the image</a>',
        head=head,
        robots="noindex" if image.visibility == Visibility.UNLISTED else "all",
    )


def link_not_found() -> Response:
    return page(
        "Link not found",
        "<h1>This link does not lead anywhere</h1>"
        "<p>The image may have been deleted, made private, or given a new link.</p>"
        '<a class="button" href="/">Browse the gallery</a>',
        status=404,
    )
