"""The Reflex internals imageshare relies on (imageshare/ui/reflex_compat.py) are still
there and still shaped as that module expects.

Each failure is a sentence naming the internal that changed: after a Reflex upgrade,
read the new Reflex source for it, adapt reflex_compat.py, then raise REFLEX_VERSION.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPAT = "imageshare/ui/reflex_compat.py"

# (module, attribute path, what it must be, what imageshare uses it for)
INTERNALS = [
    ("reflex_components_core.core.upload", "get_upload_files_context_var_data", "callable",
     "the upload page's file sizes"),
    ("reflex.experimental.client_state", "ClientStateVar.create", "callable",
     "the new access token's secret kept in the browser"),
    ("reflex.experimental.client_state", "ClientStateVar.value", "attribute",
     "the new access token's secret kept in the browser"),
    ("reflex.experimental.client_state", "ClientStateVar.set_value", "callable",
     "the new access token's secret kept in the browser"),
    ("reflex.experimental.client_state", "ClientStateVar.push", "callable",
     "the new access token's secret kept in the browser"),
    ("reflex_base.environment", "environment.REFLEX_ENV_MODE.set", "callable",
     "the container's serve command"),
    ("reflex_base.environment", "environment.REFLEX_COMPILE_CONTEXT.set", "callable",
     "the container's serve command"),
    ("reflex_base.environment", "environment.REFLEX_SKIP_COMPILE.set", "callable",
     "the container's serve command"),
    ("reflex_base.constants", "Env.PROD", "attribute", "the container's serve command"),
    ("reflex_base.constants", "CompileContext.RUN", "attribute", "the container's serve command"),
    ("reflex_base.constants", "LogLevel.subprocess_level", "callable",
     "the container's serve command"),
    ("reflex_base.config", "get_config", "callable", "the container's serve command"),
    ("reflex_base.config", "Config._set_persistent", "callable", "the container's serve command"),
    ("reflex.utils.exec", "notify_app_running", "callable", "the container's serve command"),
    ("reflex.utils.exec", "notify_frontend", "callable", "the container's serve command"),
    ("reflex.utils.exec", "run_backend_prod", "callable", "the container's serve command"),
]  # fmt: skip


def _resolve(module: str, path: str):
    value = importlib.import_module(module)
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _pinned_reflex() -> str:
    text = (REPO_ROOT / "requirements.txt").read_text()
    found = re.search(r"^reflex==([^\s;#]+)", text, re.MULTILINE)
    assert found, "requirements.txt no longer pins reflex with `reflex==…`."
    return found.group(1)


def test_the_installed_reflex_is_the_one_pinned_and_the_one_the_compat_module_was_written_for():
    from imageshare.ui.reflex_compat import REFLEX_VERSION

    installed = importlib.metadata.version("reflex")
    pinned = _pinned_reflex()
    assert installed == pinned, (
        f"reflex {installed} is installed but requirements.txt pins {pinned}: "
        f"install the pinned version (pip install -r requirements.txt)."
    )
    assert pinned == REFLEX_VERSION, (
        f"requirements.txt pins reflex {pinned} but {COMPAT} was written for {REFLEX_VERSION}: "
        f"check every Reflex internal listed there against {pinned}, then update REFLEX_VERSION."
    )


@pytest.mark.parametrize(
    ("module", "path", "kind", "use"), INTERNALS, ids=[f"{m}.{p}" for m, p, _, _ in INTERNALS]
)
def test_each_reflex_internal_still_exists(module, path, kind, use):
    try:
        value = _resolve(module, path)
    except (ImportError, AttributeError) as error:
        pytest.fail(
            f"The Reflex internal `{module}.{path}` (used in {COMPAT} for {use}) is gone "
            f"in reflex {importlib.metadata.version('reflex')}: {error}."
        )
    if kind == "callable":
        assert callable(value), (
            f"The Reflex internal `{module}.{path}` (used in {COMPAT} for {use}) "
            f"is no longer callable: it is {value!r}."
        )


def _parameters(module: str, path: str) -> list[str]:
    return list(inspect.signature(_resolve(module, path)).parameters)


@pytest.mark.parametrize(
    ("module", "path", "expected"),
    [
        ("reflex.utils.exec", "run_backend_prod",
         ["host", "port", "loglevel", "mount_frontend_compiled_app"]),
        ("reflex.utils.exec", "notify_frontend", ["url", "backend_present"]),
        ("reflex.utils.exec", "notify_app_running", []),
    ],
)  # fmt: skip
def test_the_serve_functions_take_the_arguments_the_compat_module_passes(module, path, expected):
    parameters = _parameters(module, path)
    assert parameters[: len(expected)] == expected, (
        f"The Reflex internal `{module}.{path}` now takes ({', '.join(parameters)}), "
        f"not ({', '.join(expected)}) as {COMPAT} calls it for the container's serve command."
    )


def test_the_config_still_has_the_fields_the_serve_command_reads_and_sets():
    from reflex_base.config import Config

    fields = {f.name for f in dataclasses.fields(Config)}
    for name in ("backend_host", "loglevel", "frontend_port", "backend_port"):
        assert name in fields, (
            f"The Reflex internal `reflex_base.config.Config.{name}` (read or set by {COMPAT} "
            f"for the container's serve command) is gone."
        )


def test_a_var_is_still_made_of_a_javascript_expression_a_type_and_var_data():
    import reflex as rx

    fields = [f.name for f in dataclasses.fields(rx.Var)]
    for name in ("_js_expr", "_var_type", "_var_data"):
        assert name in fields, (
            f"The Reflex internal `rx.Var({name}=…)` (used in {COMPAT} for the upload page's "
            f"file sizes) is gone: rx.Var's fields are now {fields}."
        )


def test_the_upload_context_still_declares_the_picked_files_under_the_name_we_read():
    from imageshare.ui.reflex_compat import UPLOAD_FILES_JS_NAME, upload_files_var

    expression = f"({UPLOAD_FILES_JS_NAME}['images'] ?? []).map((f) => f.size)"
    var = upload_files_var(expression, list[int])
    assert str(var) == expression and var._var_type == list[int], (
        f"`rx.Var(_js_expr=…, _var_type=…)` (used in {COMPAT} for the upload page's file "
        f"sizes) no longer keeps its expression and type as given."
    )
    hooks = " ".join(var._get_all_var_data().hooks)
    assert re.search(rf"\b{UPLOAD_FILES_JS_NAME}\b", hooks), (
        f"The Reflex internal `reflex_components_core.core.upload."
        f"get_upload_files_context_var_data()` no longer declares `{UPLOAD_FILES_JS_NAME}` "
        f"(read by {COMPAT} for the upload page's file sizes); its hooks are now: {hooks!r}."
    )


def test_client_state_vars_still_give_a_value_a_setter_and_a_push_event():
    from reflex_base.event import EventSpec

    from imageshare.ui.reflex_compat import ClientStateVar

    probe = ClientStateVar.create("reflex_compat_probe", default="")
    assert isinstance(probe.push("secret"), EventSpec), (
        f"The Reflex internal `reflex.experimental.client_state.ClientStateVar.push` (used in "
        f"{COMPAT} for the new access token's secret) no longer makes an event."
    )
    assert str(probe.value) and str(probe.set_value("")), (
        f"The Reflex internal `reflex.experimental.client_state.ClientStateVar` (used in "
        f"{COMPAT} for the new access token's secret) no longer gives `value` and `set_value`."
    )


def test_nothing_else_uses_reflex_internals():
    pattern = re.compile(
        r"_js_expr|_var_type|_var_data|reflex_components_core|reflex_base|reflex\.utils"
        r"|reflex\.experimental|_set_persistent"
    )
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in [
            *(REPO_ROOT / "imageshare").rglob("*.py"),
            REPO_ROOT / "scripts" / "container-entrypoint",
            REPO_ROOT / "rxconfig.py",
        ]
        if path.relative_to(REPO_ROOT).as_posix() != COMPAT
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, f"Reflex internals used outside {COMPAT}: {', '.join(found)}."


def test_a_native_form_renders_as_the_html_element_with_its_action():
    from imageshare.ui.reflex_compat import NativeForm

    rendered = NativeForm.create(action="/auth/logout", method="post", id="f").render()
    assert rendered["name"] == '"form"', (
        "NativeForm no longer renders as the HTML <form>: see how Reflex's own HTML "
        "elements (reflex_components_core.el.element.Element) mark their tags now."
    )
    assert 'action:"/auth/logout"' in rendered["props"]
    assert 'method:"post"' in rendered["props"]
