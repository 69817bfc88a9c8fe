"""Fresh Postgres databases on the server at 127.0.0.1:5432, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.harness.components import missing_component

# The server CI has; TEST_DATABASE_URL points elsewhere (any database on the server).
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def new_database() -> Iterator[str]:
    """Create an empty database with a random name; yield its URL; drop it."""
    server_url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER_URL))
    name = f"imageshare_test_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        missing_component(
            f"Postgres is not reachable at {server_url.render_as_string(hide_password=True)}: "
            f"{error.orig}. Start it, or set TEST_DATABASE_URL"
        )
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The run's database: the app under test and the service tests share it."""
    with new_database() as url:
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A database of this test's own, empty: for migration tests."""
    with new_database() as url:
        yield url
