"""The few pages the server renders itself, outside the Reflex app: sign-in failures,
the development sign-in form, share-link previews and their 404. They are plain HTML
because they answer HTTP routes (cookies, status codes, crawlers). The look follows
the app's theme colours.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_STYLE = """
:root { color-scheme: light dark; --accent: #5b5bd6; --text: #1c2024; --muted: #60646c;
        --bg: #f9f9fb; --card: #fff; --border: #d9d9e0; }
@media (prefers-color-scheme: dark) {
  :root { --text: #edeef0; --muted: #b0b4ba; --bg: #18191b; --card: #111113; --border: #363a3f; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       background: var(--bg); color: var(--text); min-height: 100vh;
       display: grid; place-items: center; padding: 1.25rem; }
main { background: var(--card); border: 1px solid var(--border); border-radius: 12px;
       padding: 2rem; width: 100%; max-width: 28rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
p { color: var(--muted); margin: 0 0 1.25rem; }
.brand { font-weight: 700; color: var(--text); text-decoration: none; display: block;
         margin-bottom: 1.5rem; }
.button, button { display: inline-block; background: var(--accent); color: #fff; border: 0;
       border-radius: 8px; padding: .6rem 1.1rem; font: inherit; font-weight: 500;
       text-decoration: none; cursor: pointer; }
.secondary { background: transparent; color: var(--accent); padding-left: .5rem; }
label { display: block; font-weight: 500; margin-bottom: .35rem; }
input { width: 100%; font: inherit; padding: .55rem .7rem; border-radius: 8px;
        border: 1px solid var(--border); background: var(--bg); color: var(--text);
        margin-bottom: 1rem; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.notice { font-size: .875rem; border-left: 3px solid #f5a524; padding-left: .75rem; }
.error { color: #ce2c31; }
"""


def page(
    title: str, body: str, *, status: int = 200, head: str = "", robots: str = "noindex"
) -> HTMLResponse:
    """A complete page around `body` (already escaped HTML); `head` adds meta tags."""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="{escape(robots)}">{head}
<title>{escape(title)} — imageshare</title><style>{_STYLE}</style></head>
<body><main><a class="brand" href="/">imageshare</a>{body}</main></body></html>"""
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
