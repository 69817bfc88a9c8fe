"""The few server-rendered pages of sign-in: failures and the development form.

They are plain HTML because they answer HTTP routes that must set cookies, which
the Reflex websocket cannot. The look follows the app's theme colours.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from imageshare.server_html import page as _page


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
       pattern="[A-Za-z0-9_\\-]+" title="Letters, digits, - and _" autofocus>
<button type="submit">Sign in</button>
<a class="button secondary" href="/">Cancel</a>
</form>""",
        status=status,
    )


def sign_out(*, error: str | None = None, status: int = 200) -> HTMLResponse:
    """GET /auth/logout: a button that signs out. A link (or an image, or another site)
    can make a browser GET this page, and that must not sign anyone out."""
    error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "Sign out",
        f"""<h1>Sign out?</h1>
{error_html}
<form method="post" action="/auth/logout">
<button type="submit">Sign out</button>
<a class="button secondary" href="/">Back to the gallery</a>
</form>""",
        status=status,
    )
