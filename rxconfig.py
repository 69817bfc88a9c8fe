"""Reflex configuration, derived from the app's Settings (see README: Settings)."""

import sys

import reflex as rx

from imageshare.settings import SettingsError, load_settings
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
    cors_allowed_origins=[settings.public_url],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=THEME)],
    # Every page worth indexing is dynamic; a static sitemap would list only "/".
    disable_plugins=[rx.plugins.SitemapPlugin],
)
