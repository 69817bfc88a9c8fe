"""Test harness: the real components, each started once per session (see README: Tests)."""

import pytest

pytest_plugins = [
    "tests.harness.postgres",
    "tests.harness.seaweedfs",
    "tests.harness.sqs",
    "tests.harness.app_server",
    "tests.harness.browser",
    "tests.harness.oidc",
    "tests.harness.database",
    "tests.harness.seeding",
    "tests.harness.rows",
    "tests.harness.api",
]

_KINDS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items):
    # The folder says what kind a test is: tests/unit, tests/integration, tests/e2e.
    for item in items:
        for kind in _KINDS:
            if f"/tests/{kind}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, kind))
