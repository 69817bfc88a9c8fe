"""The type checker's configuration (pyproject.toml) is strict enough to catch a
positional argument to a keyword-only dataclass: the kind of call that made
`Camera(*values)` fail at run time. `make test` checks the whole package with it."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
from dataclasses import dataclass


@dataclass(kw_only=True)
class Camera:
    make: str | None
    model: str | None


def camera(values: tuple[str | None, str | None]) -> Camera:
    return Camera(*values)
"""


def _mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(cache), str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=240,
    )  # fmt: skip


def test_positional_arguments_to_a_keyword_only_dataclass_fail_the_check(tmp_path):
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(SNIPPET))
    result = _mypy(snippet, tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Too many positional arguments for "Camera"  [call-arg]' in result.stdout


def test_the_keyword_call_passes(tmp_path):
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(SNIPPET).replace(
            "Camera(*values)", "Camera(make=values[0], model=values[1])"
        )
    )
    result = _mypy(snippet, tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr
