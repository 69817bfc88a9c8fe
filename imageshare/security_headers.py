"""Security headers on everything the backend serves: the pages (Reflex's built frontend,
mounted inside our routes), the API and the media route.

Every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy:
strict-origin-when-cross-origin` and `X-Frame-Options: DENY` (no framing: clickjacking).
HTML responses also get a Content-Security-Policy, built for what Reflex 0.10's pages do:

- script-src 'self' plus the sha256 of each inline script of *that* page. Reflex's
  prerendered pages carry inline scripts (the colour-mode script, React Router's
  hydration context and streaming calls), different per page and per build, so their
  hashes are computed from the response itself: page loads are asked for uncompressed
  (Accept-Encoding dropped on navigations) so the body can be read, and gzipped here
  afterwards when the browser accepts it (CloudFront passes the app's pages through
  uncompressed). No 'unsafe-inline': an injected <script> does not run.
- 'unsafe-eval': Reflex's event runtime runs `rx.call_script` / `_call_function`
  payloads with eval() (.web/utils/state.js applyEvent), and imageshare uses
  rx.call_script (sign-in redirect, selecting the share link). Without it those break.
- style-src 'self' 'unsafe-inline': emotion (Reflex's CSS-in-JS) inserts <style> elements
  at run time and Radix sets style attributes.
- connect-src: the site itself and its websocket (/_event) at PUBLIC_URL's origin as
  ws:/wss: (every loopback spelling in development, as rxconfig's CORS list).
- img-src: the site, data: and blob: (placeholders, upload previews), the media origins
  (CDN_BASE_URL, S3_ENDPOINT_URL or the bucket's AWS host) and https: (avatars come
  from the sign-in provider's `picture`, on any host).
- frame-ancestors 'none', object-src 'none', base-uri 'self'; form-action the site and
  the sign-in provider (a form posted here may redirect there: sign-out).

GraphiQL (an HTML page at /graphql) loads its own scripts from a CDN: no CSP there.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imageshare.settings import Settings, page_origins

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
NO_CSP_PATHS = ("/graphql",)  # GraphiQL: scripts from a CDN (see above)
_INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def media_origins(settings: Settings) -> list[str]:
    """Where media URLs point besides the site itself."""
    origins = []
    if settings.cdn_base_url:
        origins.append(_origin(settings.cdn_base_url))
    if settings.storage_backend == "s3":
        if settings.s3_endpoint_url:  # path-style addressing (imageshare/storage.py)
            origins.append(_origin(settings.s3_endpoint_url))
        else:  # AWS: presigned URLs name the bucket's virtual host
            region = settings.s3_region or "us-east-1"
            origins.append(f"https://{settings.s3_bucket}.s3.{region}.amazonaws.com")
            origins.append(f"https://{settings.s3_bucket}.s3.amazonaws.com")
    return origins


def websocket_origins(settings: Settings) -> list[str]:
    # CSP source expressions cannot name an IPv6 literal ([::1]): browsers ignore the
    # whole entry with a console error. A page opened there still has 'self'.
    return [
        origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        for origin in page_origins(settings.public_url)
        if "[" not in origin
    ]


def policy_template(settings: Settings) -> str:
    """The Content-Security-Policy with `{scripts}` where a page's inline-script hashes go."""
    provider = [_origin(settings.auth0_issuer)] if settings.auth0_issuer else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'{scripts}"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:", *media_origins(settings)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *websocket_origins(settings)],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *provider],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def inline_script_hashes(html: bytes) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in dict.fromkeys(_INLINE_SCRIPT.findall(html))
        if body.strip()
    ]


# Pages smaller than this are sent as they are: gzip would save little.
GZIP_MIN_BYTES = 1024


class SecurityHeaders:
    """ASGI middleware adding the headers above (see the module's docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.template = policy_template(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = not scope["path"].startswith(NO_CSP_PATHS)
        navigation = csp and _is_navigation(scope)
        gzip_ok = navigation and _accepts_gzip(scope)
        if navigation:
            # Read the page uncompressed and as body messages (not granian's pathsend,
            # which sends the file past us), to hash its inline scripts.
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
            extensions = dict(scope.get("extensions") or {})
            extensions.pop("http.response.pathsend", None)
            scope = {**scope, "headers": headers, "extensions": extensions}
        start: Message | None = None
        body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if not (csp and headers.get("content-type", "").startswith("text/html")):
                    await send(message)
                elif navigation and "content-encoding" not in headers:
                    start = message  # held until the whole page is read
                else:  # HTML nobody navigates to: no inline script may run
                    headers["content-security-policy"] = self.template.format(scripts="")
                    await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            hashes = "".join(" " + digest for digest in inline_script_hashes(page))
            held = MutableHeaders(scope=start)
            held["content-security-policy"] = self.template.format(scripts=hashes)
            if gzip_ok and len(page) >= GZIP_MIN_BYTES:
                page = gzip.compress(page, compresslevel=6)
                held["content-encoding"] = "gzip"
                held["content-length"] = str(len(page))
                held.add_vary_header("Accept-Encoding")
            await send(start)
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, send_with_headers)


def _accepts_gzip(scope: Scope) -> bool:
    return any(
        key == b"accept-encoding" and b"gzip" in value.lower() for key, value in scope["headers"]
    )


def _is_navigation(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"accept" and b"text/html" in value:
            return True
        if key == b"sec-fetch-dest" and value in (b"document", b"iframe"):
            return True
    return False
