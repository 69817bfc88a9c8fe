"""The one Radix theme every page uses (registered in rxconfig.py)."""

import reflex as rx

THEME = rx.theme(accent_color="iris", gray_color="slate", radius="large", scaling="100%")
