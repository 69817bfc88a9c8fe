"""The few server-rendered pages of sign-in: failures and the development form.

They are plain HTML because they answer HTTP routes that must set cookies, which
the Reflex websocket cannot. The look follows the app's theme colours.
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


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)} — imageshare</title><style>{_STYLE}</style></head>
<body><main><a class="brand" href="/">imageshare</a>{body}</main></body></html>"""
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def sign_in_failed(message: str, *, retry_url: str, status: int = 400) -> HTMLResponse:
    return _page(
        "Sign-in failed",
        f"""<h1>Sign-in failed</h1><p id="reason">{escape(message)}</p>
<a class="button" href="{escape(retry_url)}">Try again</a>
<a class="button secondary" href="/">Back to the gallery</a>""",
        status=status,
    )


def development_sign_in(
    *, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "Sign in (development)",
        f"""<h1>Sign in as…</h1>
<p class="notice">Development sign-in: Auth0 is not configured, so anyone can sign in as
anyone. It exists only for local development and never in production.</p>
{error_html}
<form method="post" action="/auth/login">
<input type="hidden" name="next" value="{escape(next_path)}">
<label for="username">Username</label>
<input id="username" name="username" required maxlength="30" autocomplete="username"
       pattern="[A-Za-z0-9_-]+" title="Letters, digits, - and _" autofocus>
<button type="submit">Sign in</button>
<a class="button secondary" href="/">Cancel</a>
</form>""",
        status=status,
    )
