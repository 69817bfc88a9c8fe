"""Every use of Reflex's internals in imageshare, in one place.

Written for reflex 0.10.1 (REFLEX_VERSION; requirements.txt pins the same). Reflex has
no public API for the needs below, so the code reaches into modules, names and private
fields that any release may change without notice. Nothing else in imageshare (nor
scripts/container-entrypoint) imports `reflex_base`, `reflex_components_core`,
`reflex.utils` or `reflex.experimental`, or touches a Var's private fields: they
come from here.

tests/unit/test_reflex_compat.py checks each of them against the installed Reflex and
fails with a sentence naming the one that changed. After an upgrade: read the new
Reflex source for that internal, adapt this module, then raise REFLEX_VERSION with
the pin.

1. The files picked in an upload zone, with their sizes (`upload_files_var`, for
   ui/state/upload.py). `rx.selected_files(id)` gives names only; the upload page
   shows each file's own progress, so it needs sizes before anything is sent. It
   reads the same React context Reflex's upload component fills, as
   `rx.selected_files` does itself:
   - `reflex_components_core.core.upload.get_upload_files_context_var_data()`: the
     import, hook and app wrapper a Var reading that context needs;
   - `filesById` (UPLOAD_FILES_JS_NAME), the JavaScript name that hook declares: an
     object of upload id -> list of the browser's File objects;
   - `rx.Var(_js_expr=…, _var_type=…, _var_data=…)`: a Var made of a JavaScript
     expression; those constructor fields are private.

2. Page memory in the browser only (`ClientStateVar`, for ui/state/access_tokens.py):
   a new access token's secret is shown once and never kept in the server's state.
   `reflex.experimental.client_state.ClientStateVar` (`create`, `value`, `set_value`,
   `push`) is experimental, outside Reflex's stable API.

3. Serving a frontend built beforehand (`run_prebuilt_production_backend`, for
   scripts/container-entrypoint `serve`). `reflex run --env prod` rebuilds the
   frontend at every start; the container image has it built at build time, so the
   entrypoint does what `reflex run --env prod` does after its build step:
   - `reflex_base.environment.environment`: REFLEX_ENV_MODE, REFLEX_COMPILE_CONTEXT
     and REFLEX_SKIP_COMPILE (`.set`), the switches `reflex run` sets;
   - `reflex_base.constants`: `Env.PROD`, `CompileContext.RUN`;
   - `reflex_base.config.get_config()` and the config's private `_set_persistent`
     (which hands the ports to the server's worker processes through the
     environment), `backend_host`, `loglevel.subprocess_level()`;
   - `reflex.utils.exec`: `notify_app_running`, `notify_frontend` and
     `run_backend_prod(host, port, loglevel, mount_frontend_compiled_app=True)`.

4. A form the browser submits itself (`NativeForm`, for the sign-out form of
   ui/components/layout.py): `rx.el.form` always prevents the submit and hands the
   fields to a Reflex event, but signing out is a POST to a server route that sets a
   cookie and redirects. A plain `rx.Component` with tag "form" renders as a JavaScript
   name; the private class variable `_is_tag_in_global_scope` (what Reflex's own HTML
   elements set) makes it the HTML element.
"""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx
from reflex.experimental.client_state import ClientStateVar
from reflex.utils import exec as reflex_exec
from reflex_base import constants as reflex_constants
from reflex_base.config import get_config
from reflex_base.environment import environment as reflex_environment
from reflex_components_core.core.upload import get_upload_files_context_var_data

__all__ = [
    "REFLEX_VERSION",
    "UPLOAD_FILES_JS_NAME",
    "ClientStateVar",
    "NativeForm",
    "run_prebuilt_production_backend",
    "upload_files_var",
]

# The Reflex release this module was written for and checked against.
REFLEX_VERSION = "0.10.1"

# The JavaScript object of picked files per upload id, declared by the hook of
# get_upload_files_context_var_data().
UPLOAD_FILES_JS_NAME = "filesById"


def upload_files_var(js_expr: str, var_type: Any) -> rx.Var[Any]:
    """A Var the browser computes from the files picked in the page's upload zones.

    `js_expr` is JavaScript that may read UPLOAD_FILES_JS_NAME (upload id -> list of
    File, each with `name`, `size` and, for dropped folders, `path`).
    """
    return rx.Var(
        _js_expr=js_expr,
        _var_type=var_type,
        _var_data=get_upload_files_context_var_data(),
    )


def run_prebuilt_production_backend(port: int) -> None:
    """Serve the app in production mode on `port`, everything on that one port (pages
    from the frontend built beforehand, /_event, /_upload, the API routes), never
    compiling or building anything. Blocks until the server stops."""
    reflex_environment.REFLEX_ENV_MODE.set(reflex_constants.Env.PROD)
    reflex_environment.REFLEX_COMPILE_CONTEXT.set(reflex_constants.CompileContext.RUN)
    # The pages were compiled and built beforehand; never again at start.
    reflex_environment.REFLEX_SKIP_COMPILE.set(True)
    config = get_config()
    host = config.backend_host
    # _set_persistent, notify_app_running and subprocess_level are unannotated in
    # Reflex (internals, see above): the ignores below say so, nothing more.
    config._set_persistent(frontend_port=port, backend_port=port, backend_host=host)  # type: ignore[no-untyped-call]
    reflex_exec.notify_app_running()  # type: ignore[no-untyped-call]
    reflex_exec.notify_frontend(f"http://{host}:{port}", backend_present=True)
    loglevel = config.loglevel.subprocess_level()  # type: ignore[no-untyped-call]
    reflex_exec.run_backend_prod(host, port, loglevel, mount_frontend_compiled_app=True)


class NativeForm(rx.Component):
    """A <form action method> the browser submits with a full page load."""

    tag = "form"
    _is_tag_in_global_scope: ClassVar[bool] = True

    action: rx.Var[str]
    method: rx.Var[str]
