"""Reflex configuration, derived from the app's Settings (see README: Settings)."""

import sys

import reflex as rx

from imageshare.settings import SettingsError, load_settings, page_origins
from imageshare.ui.theme import THEME

try:
    settings = load_settings()
except SettingsError as error:
    # One clear sentence instead of a traceback: the app cannot start like this.
    print(f"imageshare cannot start: {error}", file=sys.stderr)
    raise SystemExit(2) from None

config = rx.Config(
    app_name="imageshare",
    # Ports come from the command line (Makefile: PORT), so --backend-only works too.
    # The address to listen on too: `make run` passes 127.0.0.1 (its development sign-in
    # lets anyone be anyone); the container keeps Reflex's 0.0.0.0 (REFLEX_BACKEND_HOST).
    # Which pages may open the websocket: PUBLIC_URL's origin, every loopback spelling.
    cors_allowed_origins=page_origins(settings.public_url),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=THEME)],
    # Every page worth indexing is dynamic; a static sitemap would list only "/".
    disable_plugins=[rx.plugins.SitemapPlugin],
)
